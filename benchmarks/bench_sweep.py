"""Sweep throughput and worker memory.

1. Runs per second of the default scenario with 1 and with 2 workers (`run_sweep`, the path
   `python main.py sweep` takes: spawn pool, results written per run, tables compacted at the
   end), wall time including the pool's start-up, and the steady rate between the first and
   last result.
2. A 1,000-run sweep of the default scenario with 2 workers: total wall time.
3. Memory per worker over many runs: one process runs 400 models back to back exactly as a
   worker does (`run_one`), and its resident memory is sampled every 50 runs. Mesa 3.3 keeps
   every model alive through Agent._ids unless it is dropped; run_one drops it
   (game.sim.runner.forget), and the pool also recycles workers every MAX_TASKS_PER_CHILD
   runs. The same loop without the drop is shown for comparison.

    .venv/bin/python benchmarks/bench_sweep.py            # ~3 min on 2 cores
    .venv/bin/python benchmarks/bench_sweep.py --quick    # 200 runs instead of 1,000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.batch.sweep import Job, run_one, run_sweep  # noqa: E402
from game.config.experiment import ExperimentFile, experiment_from  # noqa: E402
from game.sim.runner import MAX_TASKS_PER_CHILD, spawn_pool  # noqa: E402


def experiment(runs: int, seed: int = 1):
    """The default scenario, `runs` seeds: no levers, no uncertainties."""
    spec = ExperimentFile(
        name=f"bench_{runs}",
        description="benchmark: the default scenario over many seeds",
        scenario="historical",
        replications=runs,
        seed=seed,
    )
    return experiment_from(spec, "benchmarks/bench_sweep.py")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def throughput(workers: int, runs: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = run_sweep(experiment(runs, seed=workers), Path(tmp) / "out", workers=workers)
        wall = time.perf_counter() - start
    assert report.ran == runs and report.failed == 0
    return wall, runs / wall


def memory_series(runs: int, drop: bool) -> list[tuple[int, float]]:
    from mesa import Agent

    from game.sim.model import ChipWarModel

    exp = experiment(runs, seed=3)
    out = []
    kept = []
    for i, run in enumerate(exp.runs(), start=1):
        if drop:
            run_one(Job(run, "historical", None))
        else:  # what a naive worker does: build, run, forget (Mesa still holds the model)
            model = ChipWarModel("historical", rng=run.seed)
            model.run()
            kept.append(len(getattr(Agent, "_ids", {})))
        if i == 1 or i % 50 == 0:
            out.append((i, rss_mb()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 runs instead of 1,000")
    args = parser.parse_args()
    big = 200 if args.quick else 1000

    print("bench_sweep: default scenario (historical, 99 months), run_sweep into a temp folder")
    one_wall, one_rate = throughput(1, 60)
    two_wall, two_rate = throughput(2, 120)
    print(f"  1 worker :  60 runs in {one_wall:5.1f} s -> {one_rate:5.2f} runs/s")
    print(f"  2 workers: 120 runs in {two_wall:5.1f} s -> {two_rate:5.2f} runs/s")
    ratio = two_rate / one_rate
    verdict = "meets it" if ratio >= 1.7 else "misses it"
    print(f"  speed-up with 2 workers: {ratio:.2f}x (target >= 1.7x: {verdict})")

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = run_sweep(experiment(big, seed=11), Path(tmp) / "out", workers=2)
        wall = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp, "out").glob("*.*")) / 1e6
    print(
        f"\n{big:,}-run sweep, 2 workers: {wall:.1f} s ({big / wall:.2f} runs/s), "
        f"{report.failed} failed, tables {size:.1f} MB; "
        f"largest worker peak RSS {report.max_worker_rss_mb:.0f} MB "
        f"(workers recycled every {MAX_TASKS_PER_CHILD} runs)"
    )
    print(f"  target under 10 min: {'meets it' if wall < 600 else 'misses it'}")

    n = 400 if not args.quick else 150
    print(f"\nmemory of one fresh worker process over {n} runs (RSS, MB), no recycling:")
    with spawn_pool(1, max_tasks_per_child=None) as pool:  # a fresh process for each series
        kept = pool.submit(memory_series, n, True).result()
    print("  run_one (drops the model):       " + "  ".join(f"{i}:{m:.0f}" for i, m in kept))
    with spawn_pool(1, max_tasks_per_child=None) as pool:
        leak = pool.submit(memory_series, min(n, 150), False).result()
    print("  naive loop (Mesa keeps models):  " + "  ".join(f"{i}:{m:.0f}" for i, m in leak))
    first, last = kept[1][1], kept[-1][1]
    print(
        f"  run_one: {last - first:+.1f} MB from run 50 to run {n} "
        f"({(last - first) / (n - 50) * 1000:.0f} kB/run)"
    )
    lfirst, llast = leak[1][1], leak[-1][1]
    print(
        f"  naive:   {llast - lfirst:+.1f} MB from run 50 to run {leak[-1][0]} "
        f"({(llast - lfirst) / (leak[-1][0] - 50) * 1000:.0f} kB/run)"
    )


if __name__ == "__main__":
    main()
