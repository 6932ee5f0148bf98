"""Projections: the fan is a real spread of futures that runs to the scenario's end, it is the
same in a worker process as here, the newest request wins, and the pool shuts down."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import Future

import numpy as np
import pytest

from game.config.experiment import sampled_futures
from game.config.scenario import load_scenario
from game.play.projection import Fan, Projector, _drivers, average_ranks, project
from game.play.session import GameSession
from game.sim.model import ChipWarModel
from game.sim.state import snapshot

TIMEOUT = 60.0  # seconds; a projection here takes well under one


def _short(months: int = 24) -> ChipWarModel:
    sc = load_scenario("historical")
    return ChipWarModel(dataclasses.replace(sc, end=sc.start + months - 1), rng=11)


def _wait(projector: Projector) -> Fan:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        fan = projector.poll()
        if fan is not None:
            return fan
        time.sleep(0.02)
    raise AssertionError(f"no projection within {TIMEOUT} s (error: {projector.error!r})")


def test_project_spreads_futures_to_the_scenarios_end() -> None:
    model = ChipWarModel("historical", rng=3)
    model.run(60)
    plain, arrays = snapshot(model)
    before = model.results().copy()
    out = project(plain, arrays, seeds=6, base_seed=3)
    fan = Fan.from_plain(out, request_id=1)
    assert fan.dates[0] == "2027-10" and fan.dates[-1] == "2030-12"
    assert len(fan.dates) == model.horizon - model.turn == 39
    assert set(fan.median) == set(model.bloc_ids)
    spread = False
    for b in model.bloc_ids:
        lo, mid, hi = fan.p10[b], fan.median[b], fan.p90[b]
        assert lo.shape == mid.shape == hi.shape == (39,)
        assert np.all(np.isfinite(mid))
        assert np.all(lo <= mid + 1e-12) and np.all(mid <= hi + 1e-12)
        spread |= bool(np.any(hi > lo + 1e-9))
    assert spread, "the seeds gave identical futures: the model was not reseeded"
    assert model.turn == 60
    assert before.equals(model.results())  # projecting does not touch the world
    again = project(plain, arrays, seeds=6, base_seed=3)
    assert all(np.array_equal(again["median"][b], out["median"][b]) for b in model.bloc_ids)
    other = project(plain, arrays, seeds=6, base_seed=4)
    assert any(not np.array_equal(other["p90"][b], out["p90"][b]) for b in model.bloc_ids)


def test_a_finished_world_projects_to_nothing() -> None:
    model = _short(3)
    model.run()
    out = project(*snapshot(model), seeds=2, base_seed=1)
    assert out["dates"] == [] and all(len(v) == 0 for v in out["median"].values())


def test_projector_in_a_worker_process_matches_this_process() -> None:
    model = _short()
    with Projector(seeds=3, workers=1) as projector:
        projector.warm_up()
        rid = projector.request(model)
        fan = _wait(projector)
        assert fan.request_id == rid and fan.seeds == 3
        assert projector.poll() is None  # each fan is returned once
    assert projector.closed
    with pytest.raises(RuntimeError, match="closed"):
        projector.request(model)
    here = project(*snapshot(model), seeds=3, base_seed=model.rng_seed)
    for b in model.bloc_ids:
        assert np.array_equal(fan.median[b], here["median"][b])
        assert np.array_equal(fan.p10[b], here["p10"][b])


def test_a_newer_request_supersedes_older_ones() -> None:
    first, second, third = _short(), _short(), _short()
    second.run(2)
    third.run(5)
    projector = Projector(seeds=2, workers=1)
    try:
        projector.warm_up(wait=True)
        r1 = projector.request(first, key="first")
        r2 = projector.request(second, key="second")
        r3 = projector.request(third, key="third")
        assert r1 < r2 < r3
        stale = _wait(projector)  # the job in flight when it was superseded: still handed on
        assert stale.request_id == r1 and stale.dates[0] == "2022-10"
        fan = _wait(projector)
        assert fan.request_id == r3 and fan.dates[0] == "2023-03"
        time.sleep(0.2)
        assert projector.poll() is None and not projector.busy
        ends = projector.take_ends()
        assert "first" in ends and "third" in ends  # the job in flight still counted
        assert "second" not in ends  # replaced while waiting: never computed
        assert ends["third"] == fan.end_median()
    finally:
        projector.close()
    assert projector._pool is None


def test_two_workers_share_the_seeds() -> None:
    model = _short(12)
    with Projector(seeds=4, workers=2) as projector:
        projector.request(model)
        fan = _wait(projector)
    here = project(*snapshot(model), seeds=4, base_seed=model.rng_seed)
    for b in model.bloc_ids:
        assert np.allclose(fan.median[b], here["median"][b])


def test_a_session_fills_in_effects_from_a_real_projector() -> None:
    """A decision's effect is the end-of-game median it moves, over the same futures before and
    after it: the projector's answer equals the projections made here of both states. (Its
    sign is the model's to say: in 2022-25 a control can speed China's efficiency more than it
    takes away, docs/model.md.)"""
    sc = load_scenario("historical")
    s = GameSession(dataclasses.replace(sc, end=sc.start + 29), ["us"])
    with Projector(seeds=2, workers=1) as projector:
        s.attach_projector(projector)
        deadline = time.monotonic() + TIMEOUT
        while s.poll_projection() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        before = snapshot(s.model)
        s.decide("hbm_controls", True)
        after = snapshot(s.model)
        assert s.fan_pending
        while s.decisions[0].effect is None:
            s.poll_projection()
            assert time.monotonic() < deadline
            time.sleep(0.02)
    effect = s.decisions[0].effect
    assert set(effect) == {"us", "china", "allies", "rest"}
    ends = [project(*state, seeds=2, base_seed=s.model.rng_seed) for state in (before, after)]
    for bloc, moved in effect.items():
        assert moved == pytest.approx(ends[1]["median"][bloc][-1] - ends[0]["median"][bloc][-1])
    assert effect["china"] != 0.0  # HBM controls move China's path
    assert s.fan is not None and not s.fan_pending


def test_the_fan_spreads_over_what_we_dont_know_not_only_luck() -> None:
    """Futures that draw the uncertain parameters spread far wider than seeds alone (a band
    of 0.2 capability points told the player the future was known)."""
    model = ChipWarModel("historical", rng=3)
    model.run(72)
    plain, arrays = snapshot(model)
    luck = project(plain, arrays, seeds=4, base_seed=3, uncertain=False)
    unknown = project(plain, arrays, seeds=4, base_seed=3)
    width = {
        name: out["p90"]["china"][-1] - out["p10"]["china"][-1]
        for name, out in (("luck", luck), ("unknown", unknown))
    }
    assert width["unknown"] > 10 * max(width["luck"], 0.1), width
    assert Fan.from_plain(unknown, 1).uncertain and not Fan.from_plain(luck, 1).uncertain
    # the same futures in every projection of a game: drawn from its seed, scenario-fixed kept
    assert sampled_futures(4, 3) == sampled_futures(4, 3)
    drawn = dict(sampled_futures(4, 3)[0][1])
    assert "algo_doubling_months" in drawn and "bot_period_months" not in drawn
    assert "smuggling_detection" not in dict(sampled_futures(4, 3, ["smuggling_detection"])[0][1])


def test_the_fan_names_the_unknowns_that_go_with_each_blocs_future() -> None:
    model = ChipWarModel("historical", rng=3)
    model.run(80)
    plain, arrays = snapshot(model)
    fan = Fan.from_plain(project(plain, arrays, seeds=8, base_seed=5), 1)
    drivers = fan.drivers["us"]
    assert 1 <= len(drivers) <= 3
    assert all(-1.0 <= rho <= 1.0 for _, rho in drivers)
    assert abs(drivers[0][1]) >= abs(drivers[-1][1])
    assert all(name in dict(sampled_futures(8, 5)[0][1]) for name, _ in drivers)
    luck = Fan.from_plain(project(plain, arrays, seeds=3, base_seed=5, uncertain=False), 2)
    assert luck.drivers == {}


def test_average_ranks_are_scipys_with_ties_sharing_their_mean_rank() -> None:
    from scipy.stats import rankdata

    rng = np.random.default_rng(0)
    for _ in range(50):
        x = rng.integers(0, 4, (int(rng.integers(1, 12)), 3)).astype(float)
        np.testing.assert_array_equal(average_ranks(x), rankdata(x, axis=0))
        np.testing.assert_array_equal(average_ranks(x[:, 0]), rankdata(x[:, 0]))
    assert average_ranks(np.array([5.0, 1.0, 5.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_the_named_unknowns_do_not_depend_on_the_order_the_futures_came_back_in() -> None:
    """A whole-valued parameter draws the same value in several futures; its rank correlation
    must not depend on which of the tied futures came back first (workers return them chunk
    by chunk)."""
    rng = np.random.default_rng(3)
    n = 8
    life = np.array([4.0, 6.0, 6.0, 8.0, 6.0, 4.0, 8.0, 6.0])  # ties, as a whole-valued draw
    share = rng.uniform(0.1, 0.5, n)
    futures = [
        (i, [("service_life_years", life[i]), ("largest_run_share", share[i])]) for i in range(n)
    ]
    traj = np.zeros((n, 2, 1))
    traj[:, -1, 0] = life + 0.3 * rng.normal(size=n)
    order = [3, 0, 7, 1, 6, 2, 5, 4]
    one = _drivers(["us"], traj, futures)
    other = _drivers(["us"], traj[order], [futures[i] for i in order])
    assert one == other and one["us"]


def test_a_pool_of_workers_names_the_same_unknowns_as_one_process() -> None:
    """The futures come back chunk by chunk from the workers: the unknowns are matched to the
    futures they were drawn for all the same."""
    model = _short(40)
    model.run(10)
    plain, arrays = snapshot(model)
    here = project(plain, arrays, seeds=6, base_seed=11)
    with Projector(seeds=6, workers=2) as projector:
        projector.request((plain, arrays))
        fan = _wait(projector)
    assert fan.drivers == Fan.from_plain(here, 1).drivers and fan.drivers
    for b in here["median"]:
        np.testing.assert_array_equal(fan.median[b], here["median"][b])


def test_a_fans_futures_compose_no_news_and_keep_the_same_frontier(monkeypatch):
    """A fan reads the frontier alone: its futures skip writing the players' news (a tenth of a
    month's Python in some months), and the frontier is the one a future telling the news has."""
    import agents.broker
    import agents.lab
    import agents.vendor
    from game.play import projection
    from game.sim.state import restore

    model = ChipWarModel("historical", rng=4)
    model.run(30)
    plain, arrays = snapshot(model)
    told = restore(plain, arrays)
    told.rng.bit_generator.state = np.random.PCG64(7).state  # as _trajectories reseeds
    told.random.seed(7)
    told.run()
    kinds = {e["kind"] for e in told.events[len(plain["events"]) :]}
    assert {"training_run", "broker_caught"} <= kinds  # the months that follow have news

    composed: list[str] = []
    for module in (agents.broker, agents.lab, agents.vendor):
        real = module.tr
        monkeypatch.setattr(
            module, "tr", lambda key, _real=real, **kw: composed.append(key) or _real(key, **kw)
        )
    restored = []
    real_restore = projection.restore
    monkeypatch.setattr(
        projection, "restore", lambda *a: restored.append(real_restore(*a)) or restored[-1]
    )
    _, _, (traj,) = projection._trajectories([(plain, arrays)], [(7, {})])
    (quiet,) = restored
    assert composed == [] and quiet.tells_news is False
    assert quiet.events == plain["events"]  # nothing added, nothing lost
    assert np.array_equal(traj[0], np.array(told.frontier_hist[-len(traj[0]) :]))


class _ManualPool:
    """A stand-in for the projector's process pool whose jobs run (in this process, in the
    order given) only when the test says: when each chunk lands is the test's to choose."""

    def __init__(self) -> None:
        self.jobs: list = []

    def submit(self, fn, *args):  # noqa: ANN001, ANN201 - Executor.submit's shape
        future: Future = Future()
        self.jobs.append((future, fn, args))
        return future

    def land(self, n: int) -> None:
        for future, fn, args in self.jobs[:n]:
            future.set_result(fn(*args))
        del self.jobs[:n]

    def shutdown(self, **_: object) -> None:
        self.jobs.clear()


@contextlib.contextmanager
def _manual_session(seeds: int, first: int = 0) -> Iterator[tuple[GameSession, _ManualPool]]:
    """A two-year game attached to a projector whose chunks land only when the test says (its
    first request already asked)."""
    sc = load_scenario("historical")
    s = GameSession(dataclasses.replace(sc, end=sc.start + 23), ["us"])
    with Projector(seeds=seeds, workers=1, first=first) as projector:
        pool = projector._pool = _ManualPool()  # type: ignore[assignment]
        s.attach_projector(projector)
        yield s, pool


def test_a_first_look_comes_before_the_whole_fan_and_the_whole_fan_is_unchanged() -> None:
    """With `first`, the fan of the first futures is handed back as soon as their chunks land
    (marked incomplete, over those futures alone), then the fan of all of them, the same as
    without a first look; the extra states' ends come last."""
    from game.play.projection import _drivers, _summarise, _trajectories

    model, extra = _short(), _short()
    extra.run(1)
    state, before = snapshot(model), snapshot(extra)
    with Projector(seeds=6, workers=2, first=2) as projector:
        pool = projector._pool = _ManualPool()  # type: ignore[assignment]
        projector.request(state, key="now", extras={"before": before})
        assert len(pool.jobs) == 6  # first look in two chunks, the rest in two, extras in two
        pool.land(1)
        assert projector.poll() is None  # half the first look
        pool.land(1)
        first = projector.poll()
        assert first is not None and not first.complete and projector.poll() is None
        assert projector.take_ends() == {}
        pool.land(2)
        whole = projector.poll()
        assert whole is not None and whole.complete and projector.busy
        assert set(projector.take_ends()) == {"now"}
        pool.land(2)
        assert projector.poll() is None and not projector.busy
        assert set(projector.take_ends()) == {"before"}
    assert (first.seeds, first.planned, whole.seeds, whole.planned) == (2, 6, 6, 6)
    assert first.request_id == whole.request_id

    alone = Projector(seeds=6, workers=0)  # no first look: computed here, at once
    alone.request(state, key="now", extras={"before": before})
    fan = alone.poll()
    assert fan is not None and fan.complete
    futures = alone._futures_of(state, model.rng_seed)
    dates, blocs, (traj,) = _trajectories([state], futures[:2])
    look = _summarise(dates, blocs, traj, 2)
    for b in model.bloc_ids:
        assert np.array_equal(whole.median[b], fan.median[b])
        assert np.array_equal(whole.p10[b], fan.p10[b])
        assert np.array_equal(whole.p90[b], fan.p90[b])
        assert np.array_equal(first.p90[b], look["p90"][b])
        assert np.array_equal(first.median[b], look["median"][b])
    assert whole.drivers == fan.drivers
    assert first.drivers == _drivers(blocs, traj, futures[:2])


def test_wait_returns_the_whole_fan_unless_a_first_look_is_enough() -> None:
    import threading

    with Projector(seeds=4, workers=1, first=1) as projector:
        pool = projector._pool = _ManualPool()  # type: ignore[assignment]
        projector.request(_short(12))
        lander = threading.Timer(0.05, pool.land, (1,))  # only the first look's chunk lands
        lander.start()
        look = projector.wait(TIMEOUT, first_look=True)
        lander.join()
        assert look is not None and not look.complete and look.seeds == 1
        lander = threading.Timer(0.3, pool.land, (1,))  # then the rest
        lander.start()
        assert projector.wait(0.02) is None  # a first look is not what wait() waits for
        fan = projector.wait(TIMEOUT)
        lander.join()
        assert fan is not None and fan.complete and fan.seeds == 4


def test_a_session_shows_the_first_look_as_current_and_still_pending() -> None:
    with _manual_session(4, first=2) as (s, pool):
        assert s.fan is None and s.fan_pending
        pool.land(1)
        look = s.poll_projection()
        assert look is not None and not look.complete
        assert s.fan is look and s.fan_is_current and s.fan_pending
        pool.land(1)
        whole = s.poll_projection()
        assert whole is not None and whole.complete
        assert s.fan is whole and s.fan_is_current and not s.fan_pending


def test_the_chart_says_a_first_look_is_one() -> None:
    from game.ui.scenes.play import _fan_note

    model = _short(12)
    out = project(*snapshot(model), seeds=2, base_seed=1)
    look = Fan.from_plain({**out, "complete": False, "planned": 32}, request_id=1)
    assert _fan_note(look, True) == "shaded: 10-90% of the first 2 of 32 futures; the rest coming"
    assert "first" not in _fan_note(Fan.from_plain(out, request_id=1), True)


def test_a_session_that_moves_on_shows_the_fan_that_lands_labelled_as_older() -> None:
    """A game at speed asks for a fan every month, faster than fans arrive: the fan of the
    month whose job was in flight is shown when it lands (not current: the chart says which
    month it projects from), then the fan of the month now."""
    with _manual_session(2) as (s, pool):  # month 0's job: in flight
        s.step()
        s.step()  # month 1's request waits, month 2's replaces it
        pool.land(1)
        old = s.poll_projection()
        assert old is not None and s.fan is old
        assert not s.fan_is_current and s.fan_pending
        assert len(pool.jobs) == 1  # month 2's job, sent as month 0's landed
        pool.land(1)
        now = s.poll_projection()
        assert now is not None and s.fan is now and now.request_id > old.request_id
        assert s.fan_is_current and not s.fan_pending


def test_an_undone_decisions_fan_is_never_shown() -> None:
    with _manual_session(2) as (s, pool):
        pool.land(1)
        shown = s.poll_projection()
        assert shown is not None and s.fan_is_current
        s.decide("hbm_controls", True)  # its job starts at once
        assert s.undo()  # back to the state on screen
        s.step()  # a month on: older than now, as the undone state is, but not of this line
        pool.land(1)
        assert s.poll_projection() is None  # the undone state's fan
        assert s.fan is shown and not s.fan_is_current
        pool.land(1)
        now = s.poll_projection()
        assert now is not None and s.fan is now and s.fan_is_current


def test_an_older_states_whole_fan_replaces_its_first_look() -> None:
    with _manual_session(2, first=1) as (s, pool):
        s.step()  # the world moves on while month 0's fan is computed
        pool.land(1)
        look = s.poll_projection()
        assert look is not None and not look.complete and s.fan is look
        pool.land(1)
        whole = s.poll_projection()
        assert whole is not None and whole.complete and s.fan is whole
        assert not s.fan_is_current and s.fan_pending  # month 1's is still to come


def test_the_band_is_nanpercentiles_with_or_without_a_bloc_lacking_a_model() -> None:
    from game.play.projection import _summarise

    rng = np.random.default_rng(5)
    traj = rng.random((32, 20, 4)) * 100
    out = _summarise([f"d{i}" for i in range(20)], list("abcd"), traj, 32)
    p10, med, p90 = np.nanpercentile(traj, (10.0, 50.0, 90.0), axis=0)
    assert np.array_equal(out["p10"]["b"], p10[:, 1]) and np.array_equal(out["p90"]["d"], p90[:, 3])
    traj[:, :, 2] = np.nan  # a bloc without a model
    traj[3, 5, 0] = np.nan
    out = _summarise([f"d{i}" for i in range(20)], list("abcd"), traj, 32)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p10, med, p90 = np.nanpercentile(traj, (10.0, 50.0, 90.0), axis=0)
    assert np.array_equal(out["median"]["a"], med[:, 0]) and np.isnan(out["p10"]["c"]).all()


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities here")
def test_projection_workers_yield_the_cores_to_the_game() -> None:
    from game.play.projection import NICENESS

    with Projector(seeds=2, workers=1) as projector:
        projector.warm_up(wait=True, timeout=TIMEOUT)
        pids = list(projector._pool._processes)  # type: ignore[union-attr]
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert pids and all(
            os.getpriority(os.PRIO_PROCESS, pid) == min(mine + NICENESS, 19) for pid in pids
        )
