"""The vendor's and the lab's own choices (issue 14, "roles with real choices"): what each
lever does, in which direction, and that doing nothing misses each goal while the strategy
roles.yaml measured meets it."""

from __future__ import annotations

import numpy as np
import pytest

from game.config.commands import PolicyChange
from game.play.objectives import vendor_market_revenue_usd
from game.play.session import GameSession
from game.play.view import WorldView
from game.sim.model import ChipWarModel


def _vendor_world(months: int = 12, **levers: float) -> ChipWarModel:
    model = ChipWarModel(rng=3, months=months)
    for lever, value in levers.items():
        model.apply(PolicyChange("nvidia", lever, value, "nvidia"))
    model.run()
    return model


def _china(model: ChipWarModel, column: str) -> float:
    results = model.results()
    return float(results.loc[results.bloc == "china", column].sum())


def _units(model: ChipWarModel, vendor: str, bloc: str) -> int:
    sales = model.sales()
    return int(sales.loc[(sales.vendor == vendor) & (sales.bloc == bloc), "units"].sum())


@pytest.fixture(scope="module")
def vendor_worlds() -> dict[str, ChipWarModel]:
    return {
        "none": _vendor_world(),
        "checks": _vendor_world(distributor_checks=1.0),
        "dear": _vendor_world(china_price=0.3),
        "cheap": _vendor_world(china_price=-0.3),
    }


def test_checks_on_distributors_mean_fewer_smuggled_chips_and_fewer_sales_in_the_hubs(
    vendor_worlds,
) -> None:
    # the first year's gray chip is NVIDIA's H100: its checks bind the brokers' purchases
    none, checks = vendor_worlds["none"], vendor_worlds["checks"]
    assert _china(checks, "chips_smuggled") < 0.9 * _china(none, "chips_smuggled")
    assert _units(checks, "nvidia", "rest") < _units(none, "nvidia", "rest")


def test_a_dearer_china_price_sells_fewer_chips_there_and_a_cheaper_one_more(
    vendor_worlds,
) -> None:
    none, dear, cheap = vendor_worlds["none"], vendor_worlds["dear"], vendor_worlds["cheap"]
    assert _units(dear, "nvidia", "china") < _units(none, "nvidia", "china")
    assert _units(cheap, "nvidia", "china") > _units(none, "nvidia", "china")
    # the revenue counts the price the buyers paid
    per_unit = {
        k: vendor_market_revenue_usd(m, "nvidia", ["china"]) / max(1, _units(m, "nvidia", "china"))
        for k, m in vendor_worlds.items()
    }
    assert per_unit["cheap"] < per_unit["none"] < per_unit["dear"]


def test_a_variant_closer_to_the_line_is_more_capable() -> None:
    from game.core.rules import Thresholds, design_compliant

    model = ChipWarModel(rng=1, months=1)
    vendor = model.vendors[model.vendor_ids.index("nvidia")]
    assert vendor.variant_margin() == model.p.variant_margin
    model.apply(PolicyChange("nvidia", "variant_closeness", 0.999, "nvidia"))
    assert vendor.variant_margin() == pytest.approx(0.999)
    model.apply(PolicyChange("us", "export_rule", "oct2023"))
    th = Thresholds.from_policy(model.policy)
    h100 = model.chips.index("H100")
    chips = model.chips
    args = (chips.tflops[h100], chips.interconnect[h100], chips.die_area[h100], th)
    close, far = design_compliant(*args, 0.999)[0], design_compliant(*args, 0.85)[0]
    assert close > far


def test_doing_nothing_misses_the_vendors_goal_and_a_deep_china_discount_meets_it() -> None:
    idle = GameSession("historical", roles=["vendor"], rng=2022, months=48)
    busy = GameSession("historical", roles=["vendor"], rng=2022, months=48)
    busy.decide("china_price", -0.3, "nvidia")
    for s in (idle, busy):
        while not s.finished:
            s.step()
    nothing, some = idle.score("vendor"), busy.score("vendor")
    assert not nothing.met, nothing.text
    assert some.met, some.text


def _lab_world(share: float, months: int = 30) -> ChipWarModel:
    model = ChipWarModel(rng=5, months=months)
    if share:
        model.apply(PolicyChange("deepseek", "research_share", share, "deepseek"))
    model.run()
    return model


def test_research_raises_the_labs_efficiency_and_costs_it_compute() -> None:
    none, some, more = _lab_world(0.0), _lab_world(0.2), _lab_world(0.4)
    i = none.lab_index["deepseek"]
    assert none.labs.own_efficiency[i] == 1.0
    assert 1.0 < some.labs.own_efficiency[i] < more.labs.own_efficiency[i]
    # diminishing returns: twice the share, less than twice the log-gain
    assert np.log(more.labs.own_efficiency[i]) < 2 * np.log(some.labs.own_efficiency[i])
    held = {k: WorldView(m).h100e_by_lab()[i] for k, m in (("0", none), ("2", some), ("4", more))}
    assert held["4"] < held["2"] < held["0"]
    others = [j for j in range(len(none.labs.ids)) if j != i]
    assert (some.labs.own_efficiency[others] == 1.0).all()


def test_doing_nothing_misses_the_labs_goal_and_a_fifth_on_research_meets_it() -> None:
    idle = GameSession("historical", roles=["lab"], rng=2022, months=48)
    busy = GameSession("historical", roles=["lab"], rng=2022, months=48)
    busy.decide("research_share", 0.2, "deepseek")
    for s in (idle, busy):
        while not s.finished:
            s.step()
    nothing, some = idle.score("lab"), busy.score("lab")
    assert nothing.value == pytest.approx(nothing.target - 1.0)
    assert not nothing.met, nothing.text
    assert some.met, some.text


def test_the_new_levers_are_deterministic() -> None:
    def run() -> ChipWarModel:
        model = ChipWarModel(rng=9, months=10)
        model.apply(PolicyChange("nvidia", "distributor_checks", 0.5, "nvidia"))
        model.apply(PolicyChange("nvidia", "china_price", 0.2, "nvidia"))
        model.apply(PolicyChange("deepseek", "research_share", 0.3, "deepseek"))
        model.run()
        return model

    a, b = run(), run()
    assert a.results().equals(b.results())
    assert a.sales().equals(b.sales())
    np.testing.assert_array_equal(a.fees_via, b.fees_via)


def _distilling(effort: float, months: int = 36) -> ChipWarModel:
    model = ChipWarModel(rng=5, months=months)
    if effort != 1.0:
        model.apply(PolicyChange("deepseek", "distillation_effort", effort, "deepseek"))
    model.run()
    return model


def test_distillation_effort_trades_compute_for_the_released_models_lead() -> None:
    """More effort closes more of the gap to America's released models and costs the lab
    chips; less saves chips and closes less; the usual effort is the model as it was."""
    usual, none, hard = _distilling(1.0), _distilling(0.0), _distilling(2.0)
    i = usual.lab_index["deepseek"]
    assert none.labs.capability[i] < usual.labs.capability[i] < hard.labs.capability[i]
    # a lab that money does not limit pays in risk: caught, it is shut out for months
    caught = [n for n in hard.events if n.get("kind") == "distillation_caught"]
    assert caught and all("DeepSeek" in n["text"] for n in caught)
    assert not [n for n in usual.events if n.get("kind") == "distillation_caught"]
    # the lever is one lab's: another Chinese lab's distillation is as usual
    j = usual.lab_index["alibaba"]
    assert hard.labs.capability[j] == pytest.approx(usual.labs.capability[j], abs=0.5)
    explicit = ChipWarModel(rng=5, months=36)
    explicit.apply(PolicyChange("deepseek", "distillation_effort", 1.0, "deepseek"))
    explicit.run()
    assert explicit.results().equals(usual.results())


def test_a_vendor_that_books_more_capacity_sells_more_and_less_sells_less() -> None:
    """The capacity plan moves NVIDIA's revenue the way a vendor would expect: building short
    of demand keeps markups up but sells fewer chips (less revenue here), building ahead
    sells more; the usual plan is the model as it was (measured in roles.yaml)."""
    revenue = {}
    for plan in (0.7, 1.0, 1.5):
        s = GameSession("historical", roles=["vendor"], rng=2022, months=48)
        if plan != 1.0:
            s.decide("capacity_plan", plan, "nvidia")
        while not s.finished:
            s.step()
        revenue[plan] = s.score("vendor").value
    assert revenue[0.7] < revenue[1.0] < revenue[1.5]
