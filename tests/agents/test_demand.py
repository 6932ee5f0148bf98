"""Demand that can say no: labs weigh buying compute against keeping their cash, spend no more
than they have, and budgets follow the scenario's path per bloc."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from agents import lab as lab_phase
from game.config.errors import InputError
from game.config.scenario import load_scenario, parse_scenario_text
from game.sim.model import ChipWarModel


def _markups(scenario: str, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """[month] the gray markup (NaN when no gray market) and the gray chip's smuggling
    difficulty (1 for cards and 8-GPU servers, more for rack-scale systems)."""
    model = ChipWarModel(scenario, rng=seed)
    marks, difficulty = [], []
    for _ in range(model.horizon):
        model.step()
        g = model.view.gray_chip
        marks.append(model.gray.markup if g >= 0 else np.nan)
        difficulty.append(model.chips.smuggling_difficulty[g] if g >= 0 else np.nan)
    return np.array(marks), np.array(difficulty), model.p.gray_markup_max


@pytest.mark.parametrize("seed", [1, 2])
def test_under_total_embargo_the_gray_price_rarely_sits_at_its_ceiling(seed: int) -> None:
    """Buyers who would pay any price kept the gray markup at its 4x ceiling for 40-63 of 99
    months; buyers who walk away from compute far dearer than it should be hold it below
    while the gray chip ships as cards or servers. (Once only rack-scale systems are left to
    smuggle, from about 2027, brokers move so few that the price sits at its ceiling: that is
    scarce supply, not demand that never says no.)"""
    marks, difficulty, ceiling = _markups("total_embargo", seed)
    cards = difficulty == 1
    at_ceiling = int(np.sum((marks >= ceiling - 1e-9) & cards))
    assert np.isfinite(marks).sum() > 90  # the gray market runs the whole time
    assert cards.sum() >= 48  # four years of it
    assert at_ceiling <= 6, f"{at_ceiling} months at the gray ceiling"


def _spent_share(model: ChipWarModel, dearer: float) -> np.ndarray:
    """[lab] share of its cash each active lab would spend this month if every source cost
    `dearer` times as much (the allocation alone, nothing delivered)."""
    labs = model.labs
    active = labs.founded <= model.month
    offers = lab_phase._offers(model, active)
    beta = model.p.choice_sharpness
    offers = dataclasses.replace(
        offers,
        unit_price=offers.unit_price * dearer,
        utility=offers.utility - beta * np.log(dearer),
    )
    cash = np.where(active, labs.cash + labs.budget, 0.0)
    units, _ = lab_phase._allocate(model, offers, cash, 0.0)
    spent = (units * lab_phase._paid(offers)).sum(axis=1)
    return np.divide(spent, cash, out=np.zeros_like(cash), where=cash > 0)[active]


def test_a_lab_facing_only_very_dear_sources_spends_less() -> None:
    model = ChipWarModel("no_controls", rng=3)
    model.step()
    at_list = _spent_share(model, 1.0)
    at_four_times = _spent_share(model, 4.0)
    assert at_list.min() > 0.95, "at list prices labs spend nearly all they have"
    assert (at_four_times < 0.5 * at_list).all(), "at 4x list they keep most of it"


def test_money_a_sold_out_source_leaves_is_not_pushed_into_a_dear_one() -> None:
    """The second pass weighs the leftover against keeping it: a lab whose good source sold
    out does not pour the rest into a source 5x dearer."""
    model = ChipWarModel("no_controls", rng=3)
    model.step()
    labs = model.labs
    active = labs.founded <= model.month
    offers = lab_phase._offers(model, active)
    n_chips = len(model.chips)
    # one lab, two open sources: a chip at list (sold out: no vendor capacity) and the gray
    # market (no vendor limits it) selling the same compute 5x dearer
    lab = int(np.flatnonzero(active & (labs.growth_kind == 1))[0])
    chip = int(np.nanargmax(np.where(np.isfinite(offers.utility[lab, :n_chips]), 1.0, np.nan)))
    utility = np.full_like(offers.utility, -np.inf)
    beta = model.p.choice_sharpness
    utility[lab, chip] = offers.utility[lab, chip]
    utility[lab, -1] = offers.utility[lab, chip] - beta * np.log(5.0)
    unit_price = offers.unit_price.copy()
    unit_price[lab, -1] = offers.unit_price[lab, chip] * 5.0
    allowed = offers.allowed.copy()
    allowed[lab, [chip, -1]] = 1.0
    offers = dataclasses.replace(offers, utility=utility, unit_price=unit_price, allowed=allowed)
    model.view.vendor_capacity = np.zeros_like(model.view.vendor_capacity)
    cash = np.zeros(len(labs))
    cash[lab] = labs.budget[lab]
    units, _ = lab_phase._allocate(model, offers, cash, 0.0)
    spent = float((units[lab] * lab_phase._paid(offers)[lab]).sum())
    assert units[lab, chip] == 0.0
    assert spent < 0.05 * cash[lab], f"spent {spent / cash[lab]:.0%} on the dear source"


@pytest.mark.parametrize("scenario", ["total_embargo", "historical"])
def test_no_lab_spends_more_than_its_cash_and_budget(scenario: str) -> None:
    """Refunds of gray orders brokers could not fill or that were seized go back to cash and
    are not counted as spent (China used to spend 110-120% of its budget)."""
    model = ChipWarModel(scenario, rng=1)
    labs = model.labs
    for _ in range(model.horizon):
        cash_before = labs.cash.copy()
        model.step()
        assert (labs.spent_month <= cash_before + labs.budget + 1e-3).all(), model.date
    totals = model.results().groupby("bloc")[["spending_usd", "budget_usd"]].sum()
    assert (totals.spending_usd <= totals.budget_usd * (1 + 1e-9)).all(), totals


# ------------------------------------------------------------------------- budgets per bloc
SCENARIO = """name: flat_china
description: China's budgets stop growing in 2024
extends: historical
budget_growth:
  china: {2024: 1.0}
"""


def test_a_scenario_sets_a_blocs_budget_growth_for_a_year() -> None:
    base = ChipWarModel("historical", rng=1, months=39).run()
    flat = ChipWarModel(parse_scenario_text(SCENARIO, "flat.yaml"), rng=1, months=39).run()

    def budget(df, bloc: str, date: str) -> float:
        row = df[(df.bloc == bloc) & (df.date == date)]
        return float(row.budget_usd.iloc[0])

    assert budget(flat, "china", "2024-12") == pytest.approx(budget(flat, "china", "2024-01"))
    assert budget(base, "china", "2024-12") > 1.5 * budget(base, "china", "2024-01")
    assert budget(flat, "us", "2024-12") == pytest.approx(budget(base, "us", "2024-12"))
    # 2025 follows the default curve again
    assert budget(flat, "china", "2025-12") > 1.3 * budget(flat, "china", "2025-01")


def test_a_scenario_budget_path_survives_a_save() -> None:
    sc = parse_scenario_text(SCENARIO, "flat.yaml")
    assert sc.budget_growth == {"china": {2024: 1.0}}
    assert type(sc).from_plain(sc.to_plain()) == sc


def test_bad_budget_growth_is_reported_with_file_line_and_key() -> None:
    text = """name: bad
description: three mistakes
start: 2022-10
end: 2026-12
budget_growth:
  chna: {2024: 1.5}
  china:
    2031: 1.5
    2025: -2.0
"""
    with pytest.raises(InputError) as err:
        parse_scenario_text(text, "bad.yaml")
    messages = [str(p) for p in err.value.problems]
    assert len(messages) == 3, messages
    assert re.match(
        r"bad\.yaml:6: budget_growth\.chna: unknown bloc \(did you mean 'china'", messages[0]
    )
    assert re.match(
        r"bad\.yaml:8: budget_growth\.china\[2031\]: expected a year from 2022 to 2026", messages[1]
    )
    assert re.match(
        r"bad\.yaml:9: budget_growth\.china\[2025\]: expected a yearly growth factor", messages[2]
    )


def test_a_budget_factor_that_is_not_a_number_is_refused() -> None:
    text = SCENARIO.replace("1.0}", "lots}")
    with pytest.raises(InputError, match=r"flat\.yaml:5: budget_growth\.china\[2024\]"):
        parse_scenario_text(text, "flat.yaml")


def test_a_deeper_subsidy_raises_chinas_budgets_and_no_one_elses() -> None:
    """domestic_push's subsidy of 0.5 is 0.3 above the record's: Chinese labs' budgets are
    1 + state_budget_response x 0.3 times historical's, the others' the same."""
    base = ChipWarModel("historical", rng=1, months=6)
    push = ChipWarModel("domestic_push", rng=1, months=6)
    base.run(), push.run()
    assert load_scenario("domestic_push").budget_growth == {}
    china = base.labs.bloc == base.china_bloc
    expected = 1.0 + push.p.state_budget_response * (0.5 - push.p.state_budget_subsidy_baseline)
    ratio = push.labs.budget / base.labs.budget
    assert ratio[china] == pytest.approx(expected)
    assert ratio[~china] == pytest.approx(1.0)


def test_the_outside_option_weighs_against_list_prices_not_this_months() -> None:
    """Keeping the cash is weighed against what money buys at list on the world market: a
    vendor's scarcity premium this month makes buying dearer, not keeping the cash better."""
    from agents.lab import _offers

    model = ChipWarModel("historical", rng=3)
    model.run(12)
    active = model.labs.founded <= model.month
    before = _offers(model, active).outside.copy()
    model.view.price = model.view.price * 2.0
    after = _offers(model, active).outside
    np.testing.assert_allclose(after, before)
