"""Directional tests: the model responds to policy the way the mechanisms say it should.
Each compares runs with the same seeds (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from game.config.commands import PolicyChange
from game.config.scenario import parse_scenario_text
from game.core.rules import UNCONTROLLED
from game.sim.model import ChipWarModel

SEEDS = (1, 2, 3)


def _china(df):
    return df[df.bloc == "china"].reset_index(drop=True)


@pytest.fixture(scope="module")
def embargo_vs_open():
    out = {}
    for name in ("no_controls", "total_embargo"):
        out[name] = [_china(ChipWarModel(name, rng=s).run()) for s in SEEDS]
    return out


def test_total_embargo_slows_chinas_frontier(embargo_vs_open) -> None:
    for open_, shut in zip(
        embargo_vs_open["no_controls"], embargo_vs_open["total_embargo"], strict=True
    ):
        for date in ("2025-12", "2030-12"):
            a = open_.loc[open_.date == date, "frontier_capability"].item()
            b = shut.loc[shut.date == date, "frontier_capability"].item()
            assert b < a - 1.0, (date, a, b)
        assert shut.gap_months.iloc[-1] > open_.gap_months.iloc[-1] + 2
        assert shut.compute_h100e.iloc[-1] < 0.6 * open_.compute_h100e.iloc[-1]


@pytest.mark.xfail(
    strict=True,
    reason="open (issue 11): with the 2026-2030 roadmap the gray market smuggles Rubin- and "
    "Feynman-class chips at about the counts it smuggled H100s and B200s (brokers move chips by "
    "count, not by worth or size), so smuggled chips hold ~75% of an embargoed China's compute "
    "in 2030 and its domestic share is ~0.21-0.26 against 0.04 open, short of the +0.2 asked",
)
def test_total_embargo_feeds_smuggling_and_domestic_chips(embargo_vs_open) -> None:
    for open_, shut in zip(
        embargo_vs_open["no_controls"], embargo_vs_open["total_embargo"], strict=True
    ):
        assert open_.chips_smuggled.sum() == 0
        assert shut.chips_smuggled.sum() > 100_000
        assert shut.domestic_share.iloc[-1] > open_.domestic_share.iloc[-1] + 0.2


def _smuggling(enforcement: float, seed: int) -> tuple[int, float]:
    df = _china(
        ChipWarModel(
            "historical", rng=seed, overrides={"enforcement": enforcement}, months=48
        ).run()
    )
    return int(df.chips_smuggled.sum()), float(df.gray_price_usd.mean())


def test_more_enforcement_fewer_smuggled_chips_and_a_higher_gray_price() -> None:
    for seed in SEEDS:
        weak_delivered, weak_price = _smuggling(0.5, seed)
        strong_delivered, strong_price = _smuggling(3.0, seed)
        assert strong_delivered < 0.8 * weak_delivered, (seed, weak_delivered, strong_delivered)
        assert strong_price > weak_price * 1.05, (seed, weak_price, strong_price)


def test_enforcement_is_monotone_in_delivered_chips() -> None:
    delivered = [np.mean([_smuggling(e, s)[0] for s in SEEDS]) for e in (0.25, 1.0, 4.0)]
    assert delivered[0] > delivered[1] > delivered[2]


@pytest.mark.parametrize("lag", [3, 6])
def test_tightening_a_threshold_brings_a_compliant_variant_after_the_lag(lag: int) -> None:
    model = ChipWarModel("historical", rng=4, overrides={"variant_lag_months": lag})
    model.run(45)  # to mid-2026: H20 and H200 sell in China
    model.apply(PolicyChange("us", "control_tpp", 1000))
    rule_month = model.month + 1  # a change between steps acts next month
    china = model.country_ids.index("china")
    for _ in range(lag + 2):
        model.step()
    released = [e for e in model.events if e["kind"] == "variant_released" and e["step"] > 45]
    assert released, "no compliant variant after a tighter threshold"
    first = released[0]
    assert first["step"] == 45 + 1 + lag, first  # the rule acts in step 46
    assert first["date"] > f"{rule_month // 12}-{rule_month % 12 + 1:02d}"
    c = model.chips.index(first["actors"][1])  # actors: vendor, chip
    assert model.chips.tpp[c] < 1000
    assert model.view.chip_class[c] == UNCONTROLLED
    assert model.view.country_access[china, c] == 1.0


def test_no_variant_when_vendors_do_not_make_them() -> None:
    model = ChipWarModel("historical", rng=4, overrides={"make_compliant_variants.nvidia": False})
    model.run(30)
    assert not [
        e for e in model.events if e["kind"] == "variant_released" and "NVIDIA" in e["text"]
    ]


def _with_subsidy(value: float):
    text = f"""
name: subsidy_{value}
description: historical with a fixed domestic subsidy
extends: historical
schedule:
  - {{date: 2022-10, actor: china, lever: domestic_subsidy, value: {value}}}
"""
    return parse_scenario_text(text)


def test_a_china_subsidy_raises_its_domestic_share() -> None:
    for seed in SEEDS:
        low = _china(ChipWarModel(_with_subsidy(0.0), rng=seed, months=60).run())
        high = _china(ChipWarModel(_with_subsidy(0.6), rng=seed, months=60).run())
        assert high.domestic_share.iloc[-1] > low.domestic_share.iloc[-1] + 0.05


def test_a_buy_domestic_mandate_raises_domestic_purchases() -> None:
    base = _china(ChipWarModel("historical", rng=1, months=48).run())
    pushed = _china(
        ChipWarModel("historical", rng=1, months=48, overrides={"buy_domestic_mandate": 0.8}).run()
    )
    assert pushed.domestic_share.iloc[-1] > base.domestic_share.iloc[-1] + 0.05
