"""The compute ledger's whole-array month against a per-agent Python loop doing the same work.

Why: the ledger (game/core/ledger.py) books every chip in one int64 array
stock[holder, chip, provenance, vintage slot] so that a month's accounting for thousands of
holders is a few numpy calls instead of a Python loop over agents. The project expects that to
be at least 30x faster than the per-agent way. This script measures it.

A month's accounting, as the model does it (agents/lab.py `procure`, game/sim/model.py
`lab_pool_flops`):
  1. install the month's purchases: (holder, chip, provenance, quantity) rows added into this
     year's vintage slot, and counted as produced per chip (`Ledger.install_new`, np.add.at);
  2. chips held per holder and chip (`Ledger.chips_held`: running totals that every flow
     updates, so reading them costs nothing);
  3. effective FLOP/s per holder: chips held times a per-chip FLOP/s vector (a matrix product;
     the model splits it by software ecosystem, left out here on both sides).

Three implementations, checked to give the same results before they are timed:
  * vectorised: a `Ledger` and the three steps above over whole arrays;
  * loop, per-agent numpy rows: each holder (agent) owns an int64[chip, provenance, vintage]
    array and a running int64[chip] total; a Python loop over holders applies the holder's
    purchases one by one to both and takes its FLOP/s as a dot product (how a Mesa model with
    stateful agents would do it);
  * loop, pure Python: the same with nested lists of ints and floats, no numpy.
All three keep running totals, so they do the same arithmetic and differ only in how.
Chip counts are compared exactly; FLOP/s to 1e-12 relative, since the order of the floating-
point sums differs. Each implementation starts every timed month from the same stock (the
reset is not timed). The script prints figures; it asserts only the correctness check.

Run: cd /work/main && .venv/bin/python benchmarks/bench_ledger.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from game.core.ledger import PROVENANCES, Ledger  # noqa: E402  (needs the sys.path line above)

SEED = 7
N_HOLDERS = 10_000
N_CHIPS = 25
N_PROV = len(PROVENANCES)
SERVICE_LIFE = 6  # vintage slots, as service_life_years in parameters.yaml
YEAR = 2024
STOCK_DENSITY = 0.05  # share of (holder, chip, provenance, vintage) cells holding chips
PURCHASES_PER_HOLDER = 3  # mean purchase rows a month (one holder may buy one chip twice)
REPEATS_VECTOR = 30
REPEATS_LOOP = 5
EXPECTED_SPEEDUP = 30.0


@dataclass
class Month:
    """The starting stock, one month of purchases and the per-chip FLOP/s."""

    stock: np.ndarray  # int64[H, C, P, V]
    holder: np.ndarray
    chip: np.ndarray
    prov: np.ndarray
    qty: np.ndarray
    flops_per_chip: np.ndarray  # float[C]

    def by_holder(self) -> list[list[tuple[int, int, int]]]:
        """Each holder's own purchases, (chip, provenance, quantity), in order: what an agent
        would hold after deciding its buys (prepared outside the timing)."""
        out: list[list[tuple[int, int, int]]] = [[] for _ in range(self.stock.shape[0])]
        for h, c, p, q in zip(
            self.holder.tolist(),
            self.chip.tolist(),
            self.prov.tolist(),
            self.qty.tolist(),
            strict=True,
        ):
            out[h].append((c, p, q))
        return out


@dataclass
class Result:
    stock: np.ndarray
    produced: np.ndarray
    held: np.ndarray
    flops: np.ndarray


def make_month(n_holders: int, rng: np.random.Generator) -> Month:
    shape = (n_holders, N_CHIPS, N_PROV, SERVICE_LIFE)
    stock = rng.integers(1, 5_000, shape) * (rng.random(shape) < STOCK_DENSITY)
    n = n_holders * PURCHASES_PER_HOLDER
    return Month(
        stock=stock.astype(np.int64),
        holder=rng.integers(0, n_holders, n),
        chip=rng.integers(0, N_CHIPS, n),
        prov=rng.integers(0, N_PROV, n),
        qty=rng.integers(1, 2_000, n),
        flops_per_chip=rng.uniform(50e12, 2_500e12, N_CHIPS),  # A100-class to B200-class
    )


# ------------------------------------------------------------------------------ vectorised
class Vectorised:
    def __init__(self, month: Month) -> None:
        self.month = month
        self.ledger = Ledger(month.stock.shape[0], N_CHIPS, SERVICE_LIFE)
        self.reset()

    def reset(self) -> None:
        np.copyto(self.ledger.stock, self.month.stock)
        self.ledger.recount()
        self.ledger.produced[:] = 0

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        m = self.month
        self.ledger.install_new(m.holder, m.chip, m.prov, m.qty, YEAR)
        held = self.ledger.chips_held()
        return held, held.astype(float) @ m.flops_per_chip

    def result(self) -> Result:
        held, flops = self.run()
        return Result(self.ledger.stock.copy(), self.ledger.produced.copy(), held, flops)


# ------------------------------------------------------------------------------ per-agent loops
class LoopNumpyRows:
    """Every holder keeps its own int64[chip, provenance, vintage] array."""

    def __init__(self, month: Month) -> None:
        self.month = month
        self.purchases = month.by_holder()
        self.flops_per_chip = month.flops_per_chip.copy()
        self.reset()

    def reset(self) -> None:
        self.rows = [row.copy() for row in self.month.stock]
        self.held = [row.sum(axis=(1, 2)) for row in self.rows]
        self.produced = np.zeros(N_CHIPS, np.int64)

    def run(self) -> tuple[list[np.ndarray], list[float]]:
        slot = YEAR % SERVICE_LIFE
        produced, flop_vec = self.produced, self.flops_per_chip
        flops_all = []
        for row, held, mine in zip(self.rows, self.held, self.purchases, strict=True):
            for c, p, q in mine:
                row[c, p, slot] += q
                held[c] += q
                produced[c] += q
            flops_all.append(float(held.astype(float) @ flop_vec))
        return self.held, flops_all

    def result(self) -> Result:
        held, flops = self.run()
        return Result(np.stack(self.rows), self.produced.copy(), np.stack(held), np.array(flops))


class LoopPurePython:
    """Every holder keeps nested lists stock[chip][provenance][vintage] of Python ints."""

    def __init__(self, month: Month) -> None:
        self.month = month
        self.purchases = month.by_holder()
        self.flops_per_chip = month.flops_per_chip.tolist()
        self.initial = month.stock.tolist()
        self.reset()

    def reset(self) -> None:
        self.stocks = [[[list(v) for v in chip] for chip in holder] for holder in self.initial]
        self.held = [[sum(sum(v) for v in chip) for chip in holder] for holder in self.initial]
        self.produced = [0] * N_CHIPS

    def run(self) -> tuple[list[list[int]], list[float]]:
        slot = YEAR % SERVICE_LIFE
        produced, flop_vec = self.produced, self.flops_per_chip
        flops_all = []
        for stock, held, mine in zip(self.stocks, self.held, self.purchases, strict=True):
            for c, p, q in mine:
                stock[c][p][slot] += q
                held[c] += q
                produced[c] += q
            flops = 0.0
            for n, f in zip(held, flop_vec, strict=True):
                flops += n * f
            flops_all.append(flops)
        return self.held, flops_all

    def result(self) -> Result:
        held, flops = self.run()
        return Result(
            np.array(self.stocks, np.int64),
            np.array(self.produced, np.int64),
            np.array(held, np.int64),
            np.array(flops),
        )


# ------------------------------------------------------------------------------ harness
Impl = Vectorised | LoopNumpyRows | LoopPurePython


def check_same(reference: Result, other: Result, name: str) -> None:
    assert np.array_equal(reference.stock, other.stock), f"{name}: stock differs"
    assert np.array_equal(reference.produced, other.produced), f"{name}: produced differs"
    assert np.array_equal(reference.held, other.held), f"{name}: chips held differ"
    np.testing.assert_allclose(other.flops, reference.flops, rtol=1e-12, err_msg=name)


def time_months(impl: Impl, repeats: int) -> list[float]:
    """Seconds for each of `repeats` months, each from the same starting stock."""
    out = []
    for _ in range(repeats):
        impl.reset()
        t0 = time.perf_counter()
        impl.run()
        out.append(time.perf_counter() - t0)
    return out


def time_call(fn: Callable[[], object], repeats: int) -> float:
    """Best seconds of one call (for the breakdown of the vectorised month)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rng = np.random.default_rng(SEED)
    month = make_month(N_HOLDERS, rng)
    n_rows = month.qty.size
    print(
        f"bench_ledger: {N_HOLDERS:,} holders x {N_CHIPS} chips x {N_PROV} provenances x "
        f"{SERVICE_LIFE} vintage slots (stock {month.stock.nbytes / 1e6:.0f} MB, "
        f"{STOCK_DENSITY:.0%} of cells filled), {n_rows:,} purchase rows a month"
    )

    vec, rows, pure = Vectorised(month), LoopNumpyRows(month), LoopPurePython(month)
    reference = vec.result()
    check_same(reference, rows.result(), "loop, per-agent numpy rows")
    check_same(reference, pure.result(), "loop, pure Python")
    print("check: all three give the same stock, produced, chips held and FLOP/s")
    print()

    timings = {
        "vectorised (Ledger)": time_months(vec, REPEATS_VECTOR),
        "loop, per-agent numpy rows": time_months(rows, REPEATS_LOOP),
        "loop, pure Python lists": time_months(pure, REPEATS_LOOP),
    }
    best_vec = min(timings["vectorised (Ledger)"])
    print(f"{'ms per month':30s}{'best':>10s}{'median':>10s}{'speed-up':>10s}")
    for name, secs in timings.items():
        ratio = min(secs) / best_vec
        print(
            f"{name:30s}{min(secs) * 1e3:10.2f}{statistics.median(secs) * 1e3:10.2f}{ratio:9.1f}x"
        )
    print("(speed-up = best loop time / best vectorised time)")

    vec.reset()
    ledger, m = vec.ledger, month
    install = time_call(
        lambda: ledger.install_new(m.holder, m.chip, m.prov, m.qty, YEAR), REPEATS_VECTOR
    )
    held = ledger.chips_held()
    sums = time_call(ledger.chips_held, REPEATS_VECTOR)
    product = time_call(lambda: held.astype(float) @ m.flops_per_chip, REPEATS_VECTOR)
    print()
    print(
        f"vectorised breakdown (best): install_new {install * 1e3:.2f} ms, "
        f"chips_held {sums * 1e3:.2f} ms, FLOP/s product {product * 1e3:.2f} ms"
    )

    print()
    print(f"expected: at least {EXPECTED_SPEEDUP:.0f}x faster than a per-agent loop")
    for name in ("loop, per-agent numpy rows", "loop, pure Python lists"):
        ratio = min(timings[name]) / best_vec
        verdict = "meets" if ratio >= EXPECTED_SPEEDUP else "does NOT meet"
        print(f"  against {name}: {ratio:.1f}x -> {verdict} the expectation")


if __name__ == "__main__":
    main()
