"""Rewrite the reference outcomes (tests/reference/*.csv) from the model as it is now.

    python tools/update_references.py              every shipped scenario
    python tools/update_references.py historical   only these

Run it when a change is meant to move the outcomes, then read `git diff tests/reference`:
each line is a (seed, year, bloc) with its gap, frontier, smuggled share and vendor revenue,
so the diff is what moved. Commit the files with the change that moved them.
tests/test_reference_outcomes.py fails on any other change (game/batch/reference.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from game.batch import reference  # noqa: E402
from game.config.errors import InputError  # noqa: E402
from game.config.scenario import scenario_path  # noqa: E402

FOLDER = ROOT / "tests" / "reference"


def main(argv: list[str]) -> int:
    names = argv or reference.reference_scenarios()
    try:
        for name in names:
            scenario_path(name)  # an unknown name: one line, not a traceback
    except InputError as exc:
        print(f"update_references: error: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    for path in reference.write_all(FOLDER, names):
        print(f"Wrote {path.relative_to(ROOT)}")
    print(
        f"{len(names)} scenario(s) x seeds {list(reference.SEEDS)} in "
        f"{time.perf_counter() - start:.0f} s; see what moved: git diff tests/reference"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
