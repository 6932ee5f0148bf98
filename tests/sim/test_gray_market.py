"""The gray market is bounded by value and system size, not by chip count: with the 2026-2030
roadmap (Rubin-, Feynman- and MI500-class chips sold as racks) a ring moves no more value than
its capacity, smuggled chips stay a bounded share of China's compute under the historical
controls, enforcement lowers what gets through, and a total embargo leaves China with less
compute than the historical controls. Counting chips, brokers moved as many
$100k rack-scale chips as they had moved H100s, and each of these failed."""

from __future__ import annotations

import numpy as np
import pytest

from agents import broker
from game.sim.model import ChipWarModel

SEEDS = (1, 2, 3)
END = "2030-12"
# Under the historical controls, counting chips, the roadmap made smuggled chips 0.45-0.49 of
# China's 2030 compute; bounded by value and system size they are about a third. (Under a total
# embargo that also shuts HBM from October 2022 China's own chips starve for memory, so the gray
# market is most of what little it has: a share there says little; its size is tested below.)
HISTORICAL_SMUGGLED_SHARE_MAX = 0.4


def _china_end(scenario: str, seed: int, **overrides: float) -> dict[str, float]:
    df = ChipWarModel(scenario, rng=seed, overrides=overrides or None).run()
    row = df[(df.bloc == "china") & (df.date == END)].iloc[0]
    return {
        "compute": float(row.compute_h100e),
        "smuggled": float(row.smuggled_share),
        "smuggled_h100e": float(row.compute_h100e * row.smuggled_share),
    }


@pytest.fixture(scope="module")
def ends() -> dict[str, list[dict[str, float]]]:
    return {
        "historical": [_china_end("historical", s) for s in SEEDS],
        "total_embargo": [_china_end("total_embargo", s) for s in SEEDS],
        "total_embargo_enforced": [_china_end("total_embargo", s, enforcement=2.0) for s in SEEDS],
    }


def test_the_gray_market_moves_no_more_value_than_its_capacity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each month, every ring's shipment at transit prices (a rack-scale chip counting its
    smuggling difficulty) is within the ring's capacity, and the market does ship."""
    shipped: list[int] = []
    over: list[tuple[str, float, float]] = []
    real_ship = broker.ship

    def ship_and_check(model: ChipWarModel) -> np.ndarray:
        back = real_ship(model)  # the refunds the model books
        b, view = model.brokers, model.view
        moving = b.alive & (b.ship_qty > 0)
        if view.gray_chip < 0 or not moving.any():
            return back
        difficulty = getattr(model.chips, "smuggling_difficulty", np.ones(len(model.chips)))
        weight = getattr(model.p, "smuggling_system_weight", 1.0)
        per_chip = view.transit_price * difficulty[view.gray_chip] ** weight
        value = b.ship_qty[moving] * per_chip
        capacity = b.capacity[moving].astype(float)
        shipped.append(int(b.ship_qty[moving].sum()))
        if (value > capacity * (1.0 + 1e-9)).any():
            over.append((model.date, float(value.sum()), float(capacity.sum())))
        return back

    monkeypatch.setattr(broker, "ship", ship_and_check)
    ChipWarModel("total_embargo", rng=1).run()
    assert sum(shipped) > 100_000, "the gray market hardly shipped: the check would be empty"
    assert not over, f"rings shipped more value than their capacity: {over[:3]}"


def test_smuggled_chips_are_a_bounded_share_of_chinas_2030_compute(ends) -> None:
    shares = [e["smuggled"] for e in ends["historical"]]
    assert max(shares) <= HISTORICAL_SMUGGLED_SHARE_MAX, shares


def test_stronger_enforcement_lets_less_compute_through_an_embargo(ends) -> None:
    smuggled = [e["smuggled_h100e"] for e in ends["total_embargo"]]
    enforced = [e["smuggled_h100e"] for e in ends["total_embargo_enforced"]]
    assert np.mean(enforced) < 0.8 * np.mean(smuggled), (smuggled, enforced)


def test_a_total_embargo_leaves_china_less_compute_than_the_historical_controls(ends) -> None:
    for hist, shut in zip(ends["historical"], ends["total_embargo"], strict=True):
        assert shut["compute"] < hist["compute"], (hist, shut)
