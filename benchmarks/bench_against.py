"""Time this checkout against another revision, side by side in one run: the default model run
in process and `python main.py run` as a user waits for it, interleaved round by round so that
a noisy machine slows both alike, and the ratio of the medians.

Why: a change meant to keep behaviour (a re-layout, a refactor) should not cost speed either,
and a speed-up should show as a ratio, not as two timings taken at different moments.
tools/scenario_tables.py checks the results are identical; this checks the time.

Run: cd /work/main && .venv/bin/python benchmarks/bench_against.py [REVISION] [--rounds N]
(default: the commit before the re-layout into layers, 7af15d7; 5 rounds). The other revision
is exported with `git archive` into a temporary folder and run with this checkout's venv.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REVISION = "7af15d7"

# Runs in the tree under test (its folder first on sys.path): the model's module moved in the
# re-layout, so both places are tried.
IN_PROCESS = """
import json, sys, time
sys.path.insert(0, ".")
try:
    from game.sim.model import ChipWarModel
except ImportError:
    from game.model import ChipWarModel
ChipWarModel("historical", rng=0).run()  # loads and caches the world data
times = []
for seed in (1, 2, 3, 4, 5):
    t = time.perf_counter()
    ChipWarModel("historical", rng=seed).run()
    times.append(time.perf_counter() - t)
print(json.dumps(sum(times)))  # the five seeds together
"""


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    tar_path = into / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def model_run(tree: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], cwd=tree, capture_output=True, text=True, check=True
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def cli_run(tree: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "main.py", "run"], cwd=tree, capture_output=True, check=True
    )
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", nargs="?", default=DEFAULT_REVISION)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = export(args.revision, Path(tmp))
        trees = {"this checkout": REPO_ROOT, args.revision: other}
        model: dict[str, list[float]] = {k: [] for k in trees}
        cli: dict[str, list[float]] = {k: [] for k in trees}
        for r in range(args.rounds):
            order = list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]
            for name, tree in order:
                model[name].append(model_run(tree))
                cli[name].append(cli_run(tree))
    print(f"{args.rounds} interleaved rounds: best and median (the best is the least noisy)")
    print(f"{'':>16} {'5 model runs, ms':>22} {'main.py run, s':>18}")
    print(f"{'':>16} {'best':>10} {'median':>11} {'best':>8} {'median':>9}")
    for name in trees:
        print(
            f"{name:>16} {1000 * min(model[name]):>10.1f} "
            f"{1000 * statistics.median(model[name]):>11.1f} "
            f"{min(cli[name]):>8.2f} {statistics.median(cli[name]):>9.2f}"
        )
    this, that = "this checkout", args.revision
    print(
        f"{'ratio':>16} {min(model[this]) / min(model[that]):>10.2f} "
        f"{statistics.median(model[this]) / statistics.median(model[that]):>11.2f} "
        f"{min(cli[this]) / min(cli[that]):>8.2f} "
        f"{statistics.median(cli[this]) / statistics.median(cli[that]):>9.2f}"
        f"   (this / {that}; below 1 is faster)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
