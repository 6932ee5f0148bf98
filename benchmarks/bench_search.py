"""Robust policy search on a local Dask cluster: candidates x futures, wall time, runs per
second and the convergence curve (hypervolume and epsilon progress per generation).

The full benchmark of issue 16 is experiments/robust_policy.yaml as shipped: 2,000 candidate
policies x 8 futures = 16,000 runs of the default scenario's 99 months (about 35 minutes on 2
cores). `--candidates` and `--futures` shrink it (the population shrinks with it to at most a
fifth of the candidates, at least 8); the run writes a normal search folder (pareto.csv,
convergence.csv, convergence.png, parallel.png, policies/) and prints the figures.

    .venv/bin/python benchmarks/bench_search.py                                 # 16,000 runs
    .venv/bin/python benchmarks/bench_search.py --candidates 100 --futures 4    # ~2 min
    .venv/bin/python benchmarks/bench_search.py --backend local                 # process pool
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from game.batch.search import print_progress, run_search  # noqa: E402
from game.config.experiment import load_experiment  # noqa: E402
from game.reports.analysis.search_charts import search_charts  # noqa: E402
from game.sim.results import COLUMN_NAMES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def experiment(candidates: int, futures: int, population: int | None, months: int | None):
    """experiments/robust_policy.yaml with its budget, futures and population replaced."""
    text = (ROOT / "experiments" / "robust_policy.yaml").read_text()
    pop = population or max(8, min(40, candidates // 5))
    text = text.replace("  nfe: 2000\n", f"  nfe: {candidates}\n")
    text = text.replace("  futures: 8\n", f"  futures: {futures}\n")
    text = text.replace("  population: 40\n", f"  population: {pop}\n")
    if months:
        text = text.replace("scenario: historical\n", f"scenario: historical\nmonths: {months}\n")
    tmp = Path(tempfile.mkdtemp(prefix="bench_search_")) / "robust_policy_bench.yaml"
    tmp.write_text(text)
    return load_experiment(str(tmp), columns=COLUMN_NAMES)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=2000, help="the nfe budget (default 2000)")
    ap.add_argument("--futures", type=int, default=8, help="futures per candidate (default 8)")
    ap.add_argument("--population", type=int, default=None)
    ap.add_argument("--months", type=int, default=None, help="shorter runs (default: 99)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", choices=["dask", "local"], default="dask")
    ap.add_argument("--out", default=None, help="search folder (default: a temporary one)")
    args = ap.parse_args()
    exp = experiment(args.candidates, args.futures, args.population, args.months)
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_search_out_"))
    search = exp.spec.search
    print(
        f"{search.nfe} candidates x {search.futures} futures (population {search.population}), "
        f"{args.workers} workers on {args.backend}, into {out}",
        flush=True,
    )
    start = time.perf_counter()
    report = run_search(
        exp, out, workers=args.workers, backend=args.backend, progress=print_progress
    )
    wall = time.perf_counter() - start
    charts = search_charts(out)
    runs = report.ran_now
    conv = pd.read_csv(out / "convergence.csv")
    print()
    print(f"candidates evaluated: {report.nfe} in {report.generations} generations")
    print(f"runs: {runs}; wall: {wall:.1f} s; {runs / wall:.2f} runs/s; {wall / runs:.3f} s/run")
    print(f"Pareto set: {len(pd.read_csv(out / 'pareto.csv'))} policies")
    print("convergence (generation, nfe, archive, epsilon progress, hypervolume):")
    for _, r in conv.iterrows():
        print(
            f"  {int(r['generation']):3d} {int(r['nfe']):5d} {int(r['archive_size']):3d} "
            f"{int(r['epsilon_progress']):4d} {r['hypervolume']:.3f}"
        )
    full = 2000 * 8
    print(f"extrapolated to {full:,} runs at this rate: {full * wall / runs / 60:.0f} min")
    for path in charts:
        print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
