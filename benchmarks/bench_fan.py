"""Time what a player waits for after a decision: the projection fan of sampled futures, side
by side with the default run and a reference on the same machine in the same process.

Why: a fan is only felt as live if it arrives within about half a second of a decision; a time
alone says little on a noisy shared machine, so the figures come with a reference measured in
the same run (a trivial Mesa model of 1,000 agents stepped 99 times) and as ratios to it.

Measured:
  * the reference: 1,000 Mesa agents, each adding a random number to its state, 99 steps;
  * the default run (historical, 99 months), best of 3 seeds;
  * the fan: `Projector(seeds=N, workers=W)` with warm workers, from month 30 of the historical
    game, futures drawing the uncertain parameters (as the game does) and with seeds only;
    best of 3 requests, from request to the fan's arrival;
  * the workers' resident memory after the fans (VmRSS of the pool's processes, from /proc,
    and their PSS, which counts the pages of a library both map once).

It prints figures only; it never asserts a timing.

Run: cd /work/main && .venv/bin/python benchmarks/bench_fan.py [--futures 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

# The model and Mesa are imported inside the functions, not here: every spawned worker runs
# this file again as it starts (as __mp_main__), and should load what a game's worker loads
# (main.py imports nothing at its top), not this script's imports.


def _reference_model(n: int = 1000, seed: int = 0):  # type: ignore[no-untyped-def]
    """A trivial Mesa model: what 99 steps of 1,000 agents cost on this machine."""
    import mesa

    class Walker(mesa.Agent):
        def step(self) -> None:
            self.x = getattr(self, "x", 0.0) + self.model.rng.random()

    class Reference(mesa.Model):
        def __init__(self) -> None:
            super().__init__(rng=seed)
            for _ in range(n):
                Walker(self)

        def step(self) -> None:
            self.agents.do("step")

    return Reference()


def best_of(fn, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def reference() -> float:
    def run() -> None:
        m = _reference_model()
        for _ in range(99):
            m.step()

    return best_of(run)


def default_run() -> float:
    from game.sim.model import ChipWarModel

    ChipWarModel("historical", rng=0).run()  # world data loaded and cached
    seeds = iter(range(1, 100))
    return best_of(lambda: ChipWarModel("historical", rng=next(seeds)).run())


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def pss_mb(pid: int) -> float:
    """Proportional set size: a page shared by n processes counts 1/n in each, so the sum over
    the workers is the memory they take together (RSS counts a shared library in each)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def fan(
    futures: int, workers: int, uncertain: bool, state: tuple
) -> tuple[float, tuple[float, float]]:
    """Best time of 3 requests with warm workers, and the workers' RSS and PSS (MB, summed)
    after them."""
    from game.play.projection import Projector

    projector = Projector(seeds=futures, workers=workers, uncertain=uncertain)
    try:
        projector.warm_up(wait=True, timeout=120)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            projector.request(state)
            got = projector.wait(timeout=600)
            if got is None:
                raise RuntimeError(f"no fan: {projector.error!r}")
            times.append(time.perf_counter() - t)
        pool = projector._pool  # noqa: SLF001 - the benchmark reads the workers' memory
        pids = list(getattr(pool, "_processes", {}) or {})
        memory = (sum(rss_mb(p) for p in pids), sum(pss_mb(p) for p in pids))
        return min(times), memory
    finally:
        projector.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--futures", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--month", type=int, default=30)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; fan of {args.futures} futures from month {args.month}, "
          f"{args.workers} warm workers")
    from game.sim.model import ChipWarModel
    from game.sim.state import snapshot

    ref = reference()
    run = default_run()
    model = ChipWarModel("historical", rng=2022)
    model.run(args.month)
    state = snapshot(model)
    drawn, drawn_mb = fan(args.futures, args.workers, True, state)
    luck, _ = fan(args.futures, args.workers, False, state)
    rows = [
        ("reference: Mesa, 1,000 agents x 99 steps", ref),
        ("default run, 99 months", run),
        (f"fan, {args.futures} futures drawing the unknowns", drawn),
        (f"fan, {args.futures} futures, seeds only", luck),
    ]
    print(f"{'':46s}{'seconds':>10s}{'x reference':>14s}")
    for name, seconds in rows:
        print(f"{name:46s}{seconds:10.3f}{seconds / ref:14.1f}")
    print(f"workers' resident memory after the fans: {drawn_mb[0]:.0f} MB together (RSS; "
          f"PSS, shared pages counted once: {drawn_mb[1]:.0f} MB)")
    print("targets (issue 'uncertainty people can see'): a fan of 32 futures within 0.5 s, the "
          "default run at 40 ms or less, workers under 500 MB together")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
