"""A 10,000-run Latin-hypercube sweep of the default scenario on 2 cores: the analyst's
exploratory batch (issue "the analyst's workbench", target under 10 minutes).

The experiment is what an analyst would write: the historical scenario, `uncertainties: all`
(every parameter the scenario leaves open, over its documented range), `design: lhs`, one
seed per draw, and one outcome, run through `run_sweep` exactly as `python main.py sweep`
runs it (spawn pool, per-run files, compaction at the end). Before the sweep the script times
the default run in this process (best of 3), so the sweep's wall time can be read against
what the model alone would take on this machine: runs x model time / workers, the rest being
the pool, the parameter draws, writing and compacting the tables.

    .venv/bin/python benchmarks/bench_lhs.py                 # 10,000 runs, ~10 min
    .venv/bin/python benchmarks/bench_lhs.py --runs 1000     # ~1 min
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.batch.sweep import run_sweep  # noqa: E402
from game.config.experiment import load_experiment  # noqa: E402
from game.sim.model import ChipWarModel  # noqa: E402
from game.sim.results import COLUMN_NAMES  # noqa: E402

TARGET_SECONDS = 600.0
EXPERIMENT = """\
name: bench_lhs
description: "benchmark: every uncertain parameter of the default scenario, Latin hypercube"
scenario: historical
uncertainties: all
design: lhs
samples: {runs}
replications: 1
seed: 2022
outcomes:
  - name: china_gap_2030
    expression: gap_months
    bloc: china
    window: 2030
    aggregate: mean
    direction: minimize
"""


def model_seconds() -> float:
    """The default run's model time, best of 3 (the first model, which loads the world data,
    not counted)."""
    ChipWarModel("historical", rng=0).run()
    best = float("inf")
    for seed in (1, 2, 3):
        start = time.perf_counter()
        ChipWarModel("historical", rng=seed).run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000, help="LHS draws, one run each")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    one = model_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_lhs.yaml"
        path.write_text(EXPERIMENT.format(runs=args.runs))
        exp = load_experiment(str(path), columns=COLUMN_NAMES)
        drawn = len(exp.spec.uncertainties)
        print(
            f"bench_lhs: {args.runs:,} runs of the default scenario (99 months), LHS over "
            f"{drawn} uncertain parameters, {args.workers} workers, "
            f"{len(os.sched_getaffinity(0))} cores available"
        )
        print(f"  default run in this process (best of 3): {one * 1000:.0f} ms of model time")
        start = time.perf_counter()
        report = run_sweep(exp, Path(tmp) / "out", workers=args.workers)
        wall = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (Path(tmp) / "out").glob("*.*")) / 1e6
    ideal = args.runs * one / args.workers
    print(
        f"  sweep: {wall:.0f} s ({wall / 60:.1f} min), {args.runs / wall:.2f} runs/s, "
        f"{report.failed} failed, tables {size:.0f} MB, largest worker peak RSS "
        f"{report.max_worker_rss_mb:.0f} MB"
    )
    print(
        f"  the model alone would take {ideal:.0f} s ({args.runs:,} x {one * 1000:.0f} ms / "
        f"{args.workers}); the rest ({max(0.0, wall - ideal):.0f} s, "
        f"{max(0.0, wall - ideal) / wall:.0%}) is the pool, draws, files and compaction"
    )
    scaled = wall * 10_000 / args.runs
    verdict = "meets it" if scaled < TARGET_SECONDS else "misses it"
    note = "" if args.runs == 10_000 else f" (scaled to 10,000 runs: {scaled / 60:.1f} min)"
    print(f"  target: 10,000 runs under {TARGET_SECONDS / 60:.0f} min: {verdict}{note}")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
