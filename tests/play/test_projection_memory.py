"""The projection workers' memory: they stay out of the packages they never use, free the
worlds they have projected, drop the compiler's library pages once their kernels are loaded
(and never a page the file cannot give back), and two warm workers after a fan of 32 futures
stay under the 500 MB (resident, together) that the game may take for its projections."""

from __future__ import annotations

import gc
import importlib
import time
from pathlib import Path

import pytest

from game.play.projection import Fan, Projector
from game.sim.model import ChipWarModel
from game.sim.runner import _clean_mappings, spawn_pool
from game.sim.state import snapshot

TIMEOUT = 120.0
WORKERS_MB = 500.0  # the limit for the warm workers of a 32-future fan, together


def _wait(projector: Projector) -> Fan:
    fan = projector.wait(timeout=TIMEOUT)
    assert fan is not None, f"no projection within {TIMEOUT} s (error: {projector.error!r})"
    return fan


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError(f"no VmRSS for process {pid}")


def _worker_pids(projector: Projector) -> list[int]:
    pool = projector._pool
    assert pool is not None
    return list(getattr(pool, "_processes", {}) or {})


def can_import(name: str) -> bool:
    """Whether this process can import `name` (run in a worker)."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return True


def library_resident_mb(library: str = "llvmlite") -> float:
    """Resident MB of a library's mappings in this process (run in a worker)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and "-" in fields[0] and ":" in fields[3]:
            inside = len(fields) > 5 and library in fields[5]
        elif inside and fields and fields[0] == "Rss:":
            total += int(fields[1])
    return total / 1024.0


def worlds_alive(_: int = 0) -> int:
    """Models reachable or waiting for the collector in this process (run in a worker)."""
    return sum(isinstance(o, ChipWarModel) for o in gc.get_objects())


def test_a_lean_pool_never_loads_the_hidden_package_and_a_plain_one_does() -> None:
    with spawn_pool(1, hidden=("pyarrow",)) as lean:
        assert lean.submit(can_import, "pyarrow").result(timeout=TIMEOUT) is False
    with spawn_pool(1) as plain:
        assert plain.submit(can_import, "pyarrow").result(timeout=TIMEOUT) is True


def test_projection_workers_do_without_pyarrow() -> None:
    model = ChipWarModel("historical", rng=3, months=6)
    with Projector(seeds=2, workers=1) as projector:
        projector.request(model)
        _wait(projector)
        assert projector._pool is not None
        loads = projector._pool.submit(can_import, "pyarrow").result(timeout=TIMEOUT)
    assert loads is False


def test_a_worker_frees_the_worlds_it_projected() -> None:
    """Without sweeping up, the eight dropped worlds of each fan wait for a rare full
    collection (about 50 MB in a worker after a few fans)."""
    model = ChipWarModel("historical", rng=5, months=12)
    with Projector(seeds=8, workers=1) as projector:
        projector.warm_up(wait=True, timeout=TIMEOUT)
        for _ in range(2):
            projector.request(model)
            _wait(projector)
        assert projector._pool is not None
        alive = projector._pool.submit(worlds_alive).result(timeout=TIMEOUT)
    assert alive <= 1  # at most the last future's world, dropped as the job returned


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_two_warm_workers_stay_under_the_memory_limit_after_a_32_future_fan() -> None:
    model = ChipWarModel("historical", rng=2022)
    model.run(30)
    state = snapshot(model)
    with Projector(seeds=32, workers=2) as projector:
        projector.warm_up(wait=True, timeout=TIMEOUT)
        for _ in range(2):
            t0 = time.perf_counter()
            projector.request(state)
            fan = _wait(projector)
            assert fan.seeds == 32 and time.perf_counter() - t0 < TIMEOUT
        pids = _worker_pids(projector)
        assert len(pids) == 2
        together = sum(_rss_mb(p) for p in pids)
    assert together < WORKERS_MB, f"projection workers hold {together:.0f} MB together"


SMAPS = """\
7f0582800000-7f0582801000 r--p 00000000 fe:00 1 /venv/llvmlite/binding/libllvmlite.so
Rss:                   4 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
7f0582801000-7f0582803000 r-xp 00001000 fe:00 1 /venv/llvmlite/binding/libllvmlite.so
Rss:                   8 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
7f0582803000-7f0582804000 r--p 00003000 fe:00 1 /venv/llvmlite/binding/libllvmlite.so
Rss:                   4 kB
Private_Dirty:         4 kB
Anonymous:             4 kB
7f0582804000-7f0582805000 rw-p 00004000 fe:00 1 /venv/llvmlite/binding/libllvmlite.so
Rss:                   4 kB
Private_Dirty:         4 kB
7f0582805000-7f0582806000 r-xp 00000000 fe:00 2 /venv/numpy/_core/_multiarray_umath.so
Rss:                   4 kB
Private_Dirty:         0 kB
"""


def test_only_a_librarys_clean_read_only_mappings_are_dropped() -> None:
    """The relocated tables the loader wrote and then made read-only (private dirty pages)
    cannot be read back from the file: dropping them would crash the worker."""
    got = _clean_mappings(SMAPS.splitlines(), ("llvmlite",))
    assert got == [(0x7F0582800000, 0x7F0582801000), (0x7F0582801000, 0x7F0582803000)]


def test_projection_workers_hold_none_of_the_compilers_pages_after_a_fan() -> None:
    model = ChipWarModel("historical", rng=4, months=8)
    with Projector(seeds=4, workers=1) as projector:
        projector.request(model)
        _wait(projector)
        assert projector._pool is not None
        resident = projector._pool.submit(library_resident_mb).result(timeout=TIMEOUT)
    assert resident < 5.0, f"{resident:.0f} MB of LLVM still resident"  # about 70 MB before


def drops_only_after_a_kernel_loads(_: int = 0) -> tuple[int, int, int]:
    """(MB advised) by three drops in a settled worker: with no kernel loaded since the last
    one, after compiling a kernel, and again with nothing new (run in a worker)."""
    import numba

    from game.sim import runner

    idle = runner.drop_cold_pages()

    def plus_one(x: int) -> int:
        return x + 1

    numba.njit(plus_one)(1)  # numba takes its compiler lock to compile it
    after_load = runner.drop_cold_pages()
    return idle, after_load, runner.drop_cold_pages()


def test_a_worker_reads_its_mappings_again_only_after_loading_a_kernel() -> None:
    """The drop reads /proc/self/smaps (about 14 ms): a fan that loaded nothing new must not
    pay it on the way to the screen, and one that loaded a kernel must still drop."""
    model = ChipWarModel("historical", rng=4, months=8)
    with Projector(seeds=2, workers=1) as projector:
        projector.request(model)
        _wait(projector)
        assert projector._pool is not None
        idle, after_load, again = projector._pool.submit(drops_only_after_a_kernel_loads).result(
            timeout=TIMEOUT
        )
    assert idle == 0 and again == 0
    assert after_load > 0
