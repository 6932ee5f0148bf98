"""Write the results table and the news of every shipped scenario at two seeds into a folder,
or compare two such folders: the check that a change meant to keep behaviour (a re-layout, a
speed-up) keeps it. It drives the command line, so it works across any change of the code's
layout.

    python tools/scenario_tables.py write DIR      # before the change
    python tools/scenario_tables.py write DIR2     # after it
    python tools/scenario_tables.py compare DIR DIR2
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (2022, 7)


def shipped_scenarios() -> list[str]:
    names = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml"))
    names = [n for n in names if n not in ("levers", "rules")]
    lessons = sorted(str(p) for p in (ROOT / "lessons" / "scenarios").glob("*.yaml"))
    return names + lessons


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for scenario in shipped_scenarios():
        for seed in SEEDS:
            stem = f"{Path(scenario).stem}_{'lesson_' if '/' in scenario else ''}{seed}"
            cmd = [sys.executable, str(ROOT / "main.py"), "run", scenario, "--seed", str(seed)]
            cmd += ["--events", "--out", str(out / f"{stem}.csv")]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if done.returncode:
                sys.exit(f"{scenario} seed {seed}: {done.stderr}")
            (out / f"{stem}.txt").write_text(done.stdout.replace(str(out), "OUT"))
            print(stem)


def compare(a: Path, b: Path) -> int:
    # A provenance sidecar names the commit and the output folder: it differs by design.
    names = sorted(p.name for p in a.iterdir() if not p.name.endswith(".provenance.json"))
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    for name in mismatch + errors:
        print(f"DIFFERS: {name}")
    print(f"{len(match)} identical, {len(mismatch) + len(errors)} differ")
    return 1 if mismatch or errors else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
