"""How the time of a monthly step grows with the number of actors (labs and brokers).

Why: the labs' and brokers' decision rules are written over whole arrays so that a world can
hold thousands of small buyers and smuggling rings. The project's target is a step under
50 ms with 10,000 labs and brokers. This script builds the historical scenario with
`synthetic_labs` and `synthetic_brokers` (half and half), with `broker_idle_exit_months` at 12
so that idle brokers do not leave during the measurement, runs a few warm-up months (the first
month touches the freshly allocated ledger and opens the gray market), then times the next
months one by one.

Brokers are still caught and removed while the clock runs (interdiction of about 5-8% of
active rings a month at the default parameters), so the count of alive brokers is printed at
the start and at the end of the timed months, and the per-actor cost uses the mean actor count.
A last row repeats the largest world with the lowest interdiction the parameter ranges allow,
which keeps the broker population near its starting size.

Each size is measured `REPEATS` times from a freshly built model with the same seed (the same
trajectory each time); the table shows the repeat with the lowest mean. It prints figures and
a verdict; it never asserts a timing.

Run: cd /work/main && .venv/bin/python benchmarks/bench_scaling.py
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

SEED = 1
TOTALS = (100, 1_000, 3_000, 10_000)  # synthetic labs + synthetic brokers, half each
WARMUP_STEPS = 3
TIMED_STEPS = 10
REPEATS = 5
TARGET_MS = 50.0
TARGET_ACTORS = 10_000
BASE_OVERRIDES: dict[str, Any] = {"broker_idle_exit_months": 12}
# Lowest interdiction the parameter ranges allow (assets/data/parameters.yaml).
LOW_INTERDICTION: dict[str, Any] = {
    **BASE_OVERRIDES,
    "smuggling_detection": 0.02,
    "china_border_detection": 0.0,
}


@dataclass
class Measurement:
    label: str
    total: int
    build_ms: float
    step_ms: list[float]
    labs: int
    brokers_start: int
    brokers_end: int
    brokers_mean: float

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.step_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.step_ms)

    @property
    def actors(self) -> float:
        """Labs plus the mean count of alive brokers over the timed months."""
        return self.labs + self.brokers_mean


def measure_once(total: int, overrides: dict[str, Any], label: str) -> Measurement:
    from game.sim.model import ChipWarModel

    n_labs = total // 2
    n_brokers = total - n_labs
    t0 = time.perf_counter()
    model = ChipWarModel(
        "historical",
        rng=SEED,
        synthetic_labs=n_labs,
        synthetic_brokers=n_brokers,
        overrides=overrides,
    )
    build_ms = (time.perf_counter() - t0) * 1e3
    for _ in range(WARMUP_STEPS):
        model.step()
    alive = [int(model.brokers.alive.sum())]
    step_ms = []
    for _ in range(TIMED_STEPS):
        t0 = time.perf_counter()
        model.step()
        step_ms.append((time.perf_counter() - t0) * 1e3)
        alive.append(int(model.brokers.alive.sum()))
    return Measurement(
        label=label,
        total=total,
        build_ms=build_ms,
        step_ms=step_ms,
        labs=len(model.labs.ids),
        brokers_start=alive[0],
        brokers_end=alive[-1],
        brokers_mean=statistics.fmean(alive),
    )


def measure(total: int, overrides: dict[str, Any], label: str) -> Measurement:
    runs = [measure_once(total, overrides, label) for _ in range(REPEATS)]
    return min(runs, key=lambda m: m.mean_ms)


def print_table(rows: list[Measurement]) -> None:
    print(
        f"{'world':>24s} {'labs':>6s} {'brokers alive':>15s} {'actors':>7s} "
        f"{'build ms':>9s} {'mean ms/step':>13s} {'median':>7s} {'us/actor':>9s}"
    )
    for m in rows:
        brokers = f"{m.brokers_start:,}->{m.brokers_end:,}"
        print(
            f"{m.label:>24s} {m.labs:6,d} {brokers:>15s} {m.actors:7,.0f} "
            f"{m.build_ms:9.1f} {m.mean_ms:13.1f} {m.median_ms:7.1f} "
            f"{m.mean_ms * 1e3 / m.actors:9.2f}"
        )


def linearity_note(rows: list[Measurement]) -> str:
    """Compare the marginal cost per added actor between successive sizes: roughly constant
    (within a factor of 2) means the step grows roughly linearly beyond a fixed overhead."""
    pairs = list(pairwise(rows))
    marginal = [(b.mean_ms - a.mean_ms) * 1e3 / (b.actors - a.actors) for a, b in pairs]
    parts = ", ".join(
        f"{a.total:,}->{b.total:,}: {us:.2f} us" for (a, b), us in zip(pairs, marginal, strict=True)
    )
    lo, hi = min(marginal), max(marginal)
    linear = lo > 0 and hi / lo <= 2.0
    verdict = (
        "roughly linear (marginal cost per actor within a factor of 2 across sizes)"
        if linear
        else f"NOT linear: marginal cost per actor varies {hi / max(lo, 1e-9):.1f}x across sizes"
    )
    return f"marginal cost per added actor: {parts}\nscaling: {verdict}"


def main() -> None:
    print(
        f"bench_scaling: historical scenario, seed {SEED}, {WARMUP_STEPS} warm-up months, "
        f"{TIMED_STEPS} timed months, best of {REPEATS} repeats"
    )
    print(f"overrides: {BASE_OVERRIDES}; totals = synthetic labs + synthetic brokers, half each")
    print("labs include the scenario's own labs; 'brokers alive' is at the start -> end of the")
    print("timed months; 'actors' = labs + mean alive brokers over the timed months")
    print()
    rows = [measure(total, BASE_OVERRIDES, f"{total:,}") for total in TOTALS]
    low = measure(TARGET_ACTORS, LOW_INTERDICTION, f"{TARGET_ACTORS:,} low interdiction")
    print_table([*rows, low])
    print()
    print(linearity_note(rows))
    print()
    print(f"target: under {TARGET_MS:.0f} ms a step at {TARGET_ACTORS:,} labs and brokers")
    for m in (rows[-1], low):
        ok = "meets" if m.mean_ms < TARGET_MS else "does NOT meet"
        print(
            f"  {m.label}: {m.mean_ms:.1f} ms mean ({m.median_ms:.1f} median) with "
            f"{m.actors:,.0f} actors on average -> {ok} the target"
        )
    print(f"  (low interdiction: {', '.join(f'{k}={v}' for k, v in LOW_INTERDICTION.items())})")


if __name__ == "__main__":
    main()
