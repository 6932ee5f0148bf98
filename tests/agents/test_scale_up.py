"""Experience bounds scale-up: a lab's run is at most max_run_growth_per_year ** (months since the
reference / 12) times the reference, the largest run finished in its bloc so far."""

from __future__ import annotations

import numpy as np
import pytest

from agents.lab import bloc_scale_up_bounds
from game.core.capability import scale_up_bound
from game.sim.model import ChipWarModel

G = 4.0  # growth a year in the unit tests


def test_the_bound_grows_from_the_finished_run_of_the_bloc_that_allows_the_most() -> None:
    ref = np.array([1e24, 4e24, 0.0, 2e23])
    month = np.array([0, 6, 0, 10])
    bloc = np.array([0, 0, 0, 1])
    bound = scale_up_bound(ref, month, bloc, 3, 18, G)
    # bloc 0: the 4e24 run of month 6 (4e24 x 4) beats the older 1e24 (1e24 x 4^1.5); its new
    # lab (no run) shares the bound; bloc 2 has no run and no bound
    np.testing.assert_allclose(bound, [4e24 * G, 2e23 * G ** (8 / 12), np.inf])


def test_a_newer_smaller_than_allowed_run_does_not_lower_the_bound() -> None:
    """A record below what the older run allows adds nothing: experience is not lost by using
    less of it."""
    bloc = np.zeros(2, np.int64)
    old = scale_up_bound(np.array([1e24, 0.0]), np.array([0, 0]), bloc, 1, 12, G)
    both = scale_up_bound(np.array([1e24, 1.5e24]), np.array([0, 9]), bloc, 1, 12, G)
    np.testing.assert_allclose(both, old)
    np.testing.assert_allclose(old, [1e24 * G])


@pytest.fixture(scope="module")
def to_end_2023() -> tuple[ChipWarModel, list[tuple[int, np.ndarray]]]:
    """The historical scenario to December 2023, with each month's bound before its step."""
    model = ChipWarModel("historical", rng=3, months=15)
    bounds = []
    for _ in range(15):
        bound = bloc_scale_up_bounds(model, model.month + 1)
        model.step()
        bounds.append((model.month, bound))
    return model, bounds


def test_no_finished_run_exceeds_its_blocs_bound(to_end_2023) -> None:
    model, bounds = to_end_2023
    labs = model.labs
    seen = 0
    for month, bound in bounds:
        finished = labs.ref_run_month == month  # runs that became their lab's reference
        assert np.all(labs.ref_run_flop[finished] <= bound[labs.bloc[finished]] * (1 + 1e-9))
        seen += int(finished.sum())
    assert seen > 0


def _largest_run_end_2023(growth: float) -> dict[str, float]:
    model = ChipWarModel("historical", rng=3, months=15)
    model.p.max_run_growth_per_year = growth  # beyond the parameter's range: no bound at all
    r = model.run()
    last = r[r["date"] == "2023-12"].set_index("bloc")["largest_run_flop"]
    return {b: float(last[b]) for b in ("us", "china")}


def test_the_bound_holds_china_back_in_2023_and_not_the_us() -> None:
    """China's labs held clusters far larger than any run they had done (H800s, A100s bought
    before the rules): the bound keeps their 2023 runs near the record's ~1e24. The US had run
    GPT-4 (2.1e25) before the start and grows no faster than the bound allows."""
    bounded = _largest_run_end_2023(4.5)
    loose = _largest_run_end_2023(1e3)
    assert bounded["china"] < 0.5 * loose["china"]
    assert bounded["china"] <= 4e23 * 4.5 ** (14 / 12) * (1 + 1e-9)  # Baidu's pre-2022 run
    assert bounded["us"] == pytest.approx(loose["us"])


def test_synthetic_labs_without_runs_leave_the_bound_finite() -> None:
    """A lab with no run adds nothing to its bloc's bound (no NaN that would lift it)."""
    model = ChipWarModel("historical", rng=3, months=2, synthetic_labs=50)
    bound = bloc_scale_up_bounds(model, model.month + 120)
    assert np.all(np.isfinite(bound[[model.us_bloc, model.china_bloc]]))
    far = scale_up_bound(np.array([0.0, 1e24]), np.array([-10**6, 0]), np.zeros(2, int), 1, 12, G)
    np.testing.assert_allclose(far, [1e24 * G])
