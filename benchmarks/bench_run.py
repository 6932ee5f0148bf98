"""Time the default run: the historical scenario, 99 monthly steps, as `python main.py run` does.

Why: the default run is what a user waits for at the command line and what every test and
sweep repeats, so it is the number to watch for regressions. The script reports separately

  * the first construction in the process, which also loads and validates the world data and
    the policy spec (both are cached for the rest of the process);
  * construction and `run()` of further models, best and median over several seeds, and the
    time per monthly step;
  * the wall time of the command line once, which adds interpreter start-up and imports.

It prints figures only; it never asserts a timing.

Run: cd /work/main && .venv/bin/python benchmarks/bench_run.py
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

SCENARIO = "historical"
SEEDS = (1, 2, 3, 4, 5)
FIRST_SEED = 0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine() -> str:
    import mesa
    import numpy as np

    return (
        f"Python {platform.python_version()}, numpy {np.__version__}, mesa {mesa.__version__}; "
        f"{cpu_name()}, {len(os.sched_getaffinity(0))} cores available"
    )


def shown(path: str) -> str:
    """A path relative to the repository when it lies inside it."""
    try:
        return str(Path(path).relative_to(REPO_ROOT))
    except ValueError:
        return path


def time_model(seed: int) -> tuple[float, float, int]:
    """Build and run one model; return (construction s, run s, steps taken)."""
    from game.sim.model import ChipWarModel

    t0 = time.perf_counter()
    model = ChipWarModel(SCENARIO, rng=seed)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, model.turn


def time_cli() -> tuple[float, int, str]:
    """Wall time of `python main.py run` in a fresh interpreter; (seconds, exit status, stderr)."""
    cmd = [sys.executable, "main.py", "run"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    return time.perf_counter() - t0, done.returncode, done.stderr


def print_row(label: str, values: list[float], fmt: str) -> None:
    best, median = min(values), statistics.median(values)
    print(f"  {label:22s}{best:10{fmt}}{median:10{fmt}}")


def main() -> None:
    t0 = time.perf_counter()
    import game.sim.model  # noqa: F401  (timed: the import cost of the simulation)

    import_s = time.perf_counter() - t0
    print(f"bench_run: scenario {SCENARIO!r}, default horizon")
    print(describe_machine())
    print()
    print(f"import game.sim.model (with numpy, pandas, mesa, pydantic): {import_s * 1e3:.0f} ms")

    build_s, run_s, steps = time_model(FIRST_SEED)
    print(
        f"first model in process (seed {FIRST_SEED}, loads world data): "
        f"construct {build_s * 1e3:.1f} ms, run {run_s * 1e3:.1f} ms ({steps} steps)"
    )

    builds, runs = [], []
    for seed in SEEDS:
        build_s, run_s, steps = time_model(seed)
        builds.append(build_s)
        runs.append(run_s)
    print()
    print(f"{len(SEEDS)} further models, seeds {SEEDS[0]}..{SEEDS[-1]}, {steps} steps each:")
    print(f"  {'':22s}{'best':>10s}{'median':>10s}")
    print_row("construction (ms)", [s * 1e3 for s in builds], ".1f")
    print_row("run() (ms)", [s * 1e3 for s in runs], ".1f")
    print_row("per step (ms)", [s / steps * 1e3 for s in runs], ".2f")

    print()
    wall, status, err = time_cli()
    print(
        f"CLI `{shown(sys.executable)} main.py run` wall time, once: {wall:.2f} s\n"
        "  (includes interpreter start-up, imports, world data loading and printing the table)"
    )
    if status != 0:
        print(f"  note: the command exited with status {status}: {err.strip()[-500:]}")


if __name__ == "__main__":
    main()
