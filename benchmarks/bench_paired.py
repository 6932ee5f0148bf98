"""Time this checkout against another revision with both running at the same moment, each on a
core of its own, swapping cores each round: the default model run and a projection fan's
futures, and the ratio of the two within each round.

Why: on a shared virtual machine the speed of a core drifts by half within a minute (the Mesa
reference of bench_fan.py read 54 to 88 ms in one run), so two revisions timed one after the
other (bench_against.py) differ by the machine's mood as much as by their code: a 10% change
needs many rounds to show. Run side by side, both meet the same moment of the machine, and
the ratio within a round is steady where the times are not. The cost: each revision has one
core, so the figures are of one process, not of the game's two workers.

Measured in each revision, in a process pinned to one core (os.sched_setaffinity):
  * runs: 5 default runs (historical, seeds 1-5, after one run that loads the world and the
    kernels), the best of 3 such batches, per run;
  * fan: the 32 futures of the game's fan from month 30 of the historical game (drawn
    parameters and seeds as Projector draws them, restored and stepped to the end as its
    workers do, game.play.projection._trajectories), the best of 3 fans, per future.

Run: cd /work/main && .venv/bin/python benchmarks/bench_paired.py [REVISION] [--rounds 4]
(default revision: HEAD~1; needs 2 cores). The other revision is exported with `git archive`
into a temporary folder and run with this checkout's venv.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_against import export  # the other revision, exported with git archive

REPO_ROOT = Path(__file__).resolve().parent.parent

IN_TREE = """
import gc, json, os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
sys.path.insert(0, ".")
from game.sim.model import ChipWarModel
ChipWarModel("historical", rng=0).run()  # the world data and the kernels loaded
runs = []
for _ in range(3):
    t = time.perf_counter()
    for seed in (1, 2, 3, 4, 5):
        ChipWarModel("historical", rng=seed).run()
    runs.append((time.perf_counter() - t) / 5)
fan = None
try:
    from game.play import projection as P
    from game.sim.state import snapshot
    model = ChipWarModel("historical", rng=2022)
    model.run(30)
    state = snapshot(model)
    futures = P.Projector(seeds=32, workers=0)._futures_of(state, 2022)
    P._trajectories([state], futures[:4])  # what a worker's first fan loads
    gc.collect()
    best = []
    for _ in range(3):
        t = time.perf_counter()
        P._trajectories([state], futures)
        best.append((time.perf_counter() - t) / len(futures))
    fan = min(best)
except (ImportError, AttributeError, TypeError):  # a revision before sampled futures
    pass
print(json.dumps({"runs": min(runs), "fan": fan}))
"""


def paired_round(trees: list[Path], cores: list[int]) -> list[dict]:
    """Both trees at once, each pinned to its core; their figures in the trees' order."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", IN_TREE, str(core)], cwd=tree, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        for tree, core in zip(trees, cores, strict=True)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"a revision failed:\n{stderr[-2000:]}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", nargs="?", default="HEAD~1")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        print("bench_paired needs 2 cores to run two revisions side by side", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        other = export(args.revision, Path(tmp))
        trees = [REPO_ROOT, other]
        rows = []
        for r in range(args.rounds):
            pair = cores[:2] if r % 2 == 0 else cores[1::-1]
            this, that = paired_round(trees, pair)
            rows.append((this, that))
            fan = (
                f"   fan {1e3 * this['fan']:6.1f} / {1e3 * that['fan']:6.1f} ms a future "
                f"= {this['fan'] / that['fan']:.2f}"
                if this["fan"] and that["fan"] else ""
            )
            print(f"round {r + 1}: runs {1e3 * this['runs']:5.1f} / {1e3 * that['runs']:5.1f} "
                  f"ms = {this['runs'] / that['runs']:.2f}{fan}", flush=True)
    run_ratio = statistics.median(a["runs"] / b["runs"] for a, b in rows)
    print(f"median ratio (this checkout / {args.revision}; below 1 is faster): "
          f"default run {run_ratio:.2f}", end="")
    if all(a["fan"] and b["fan"] for a, b in rows):
        print(f", a fan's future {statistics.median(a['fan'] / b['fan'] for a, b in rows):.2f}")
    else:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
