"""The rule engine against the real rules: which catalogue chips each version catches, what a
sale may do for each kind of buyer, and how a vendor designs just under a line."""

from __future__ import annotations

import numpy as np
import pytest

from game.config.levers import default_policy_spec
from game.config.world import default_world_data
from game.core.catalogue import ChipTable
from game.core.policy_state import PolicyState
from game.core.rules import (
    CONTROLLED,
    EMBARGOED,
    NOTIFIED,
    OPEN,
    RESTRICTED,
    UNCONTROLLED,
    Thresholds,
    access,
    classify,
    classify_one,
    design_compliant,
)

WORLD = default_world_data()
CHIPS = ChipTable(WORLD, [v.id for v in WORLD.vendors])
SUBJECT = np.array([v in (0, 1) for v in CHIPS.vendor]) & CHIPS.used  # nvidia, amd


def thresholds(version: str) -> Thresholds:
    state = PolicyState(default_policy_spec())
    from game.config.commands import PolicyChange

    state.set(PolicyChange("us", "export_rule", version))
    return Thresholds.from_policy(state)


def classes(version: str) -> dict[str, int]:
    c = classify(CHIPS.tpp, CHIPS.density, CHIPS.interconnect, SUBJECT, thresholds(version))
    return {cid: int(c[i]) for i, cid in enumerate(CHIPS.ids) if cid}


def test_tpp_and_density_are_computed_as_bis_defines_them() -> None:
    i = CHIPS.index("H100")
    assert CHIPS.tpp[i] == pytest.approx(989 * 16)
    assert CHIPS.density[i] == pytest.approx(989 * 16 / 814)
    assert CHIPS.tpp[CHIPS.index("A100")] == pytest.approx(4992)
    assert CHIPS.tpp[CHIPS.index("H20")] == pytest.approx(2368)


def test_october_2022_compute_and_interconnect() -> None:
    c = classes("oct2022")
    assert c["A100"] == c["H100"] == c["H200"] == c["B200"] == CONTROLLED
    assert c["A800"] == c["H800"] == UNCONTROLLED  # 400 GB/s links: the gap in the rule
    assert c["V100"] == c["H20"] == UNCONTROLLED
    assert c["Ascend910B"] == c["Ascend910C"] == UNCONTROLLED  # not of US jurisdiction


def test_october_2023_tpp_and_performance_density() -> None:
    c = classes("oct2023")
    assert c["A800"] == c["H800"] == c["MI300X"] == CONTROLLED
    assert c["H20"] == UNCONTROLLED  # 2,368 TPP: just under the 2,400 line
    assert c["V100"] == UNCONTROLLED


def test_notified_tier() -> None:
    th = thresholds("oct2023")
    tpp = np.array([3000.0, 3000.0, 2000.0])
    area = np.array([1000.0, 3000.0, 1000.0])  # density 3.0, 1.0, 2.0
    c = classify(tpp, tpp / area, np.zeros(3), np.ones(3, bool), th)
    assert list(c) == [NOTIFIED, UNCONTROLLED, UNCONTROLLED]


def test_no_controls_catches_nothing() -> None:
    assert set(classes("none").values()) == {UNCONTROLLED}


def test_access_by_buyer() -> None:
    chip_class = np.array([CONTROLLED, NOTIFIED, UNCONTROLLED, UNCONTROLLED])
    subject = np.array([True, True, True, False])
    export = np.zeros(4, np.int64)
    tier = np.array([OPEN, RESTRICTED, EMBARGOED, RESTRICTED])
    listed = np.array([False, False, False, True])
    a = access(
        chip_class, subject, export, tier, listed, licence_approval=0.25, notify_approval=0.8
    )
    assert list(a[0]) == [1, 1, 1, 1]  # open destination
    assert list(a[1]) == [0.25, 0.8, 1, 1]  # licences, notifications, free, domestic
    assert list(a[2]) == [0, 0, 0, 1]  # embargo: only non-US chips
    assert list(a[3]) == [0, 0, 0, 1]  # entity list, wherever it is
    export = np.array([2, 1, 1, 0])  # allowed, licence, licence, -
    a = access(
        chip_class, subject, export, tier, listed, licence_approval=0.25, notify_approval=0.8
    )
    assert list(a[1]) == [1, 0.25, 0.25, 1]


def test_variant_design_cuts_links_under_the_2022_rule_and_compute_under_2023() -> None:
    i = CHIPS.index("H100")
    tf, ic = design_compliant(
        CHIPS.tflops[i],
        CHIPS.interconnect[i],
        CHIPS.die_area[i],
        thresholds("oct2022"),
        margin=0.97,
    )
    assert tf == CHIPS.tflops[i] and ic < 600  # an H800
    tf, ic = design_compliant(
        CHIPS.tflops[i],
        CHIPS.interconnect[i],
        CHIPS.die_area[i],
        thresholds("oct2023"),
        margin=0.97,
    )
    assert tf * 16 < 2400 and tf > 0.9 * 2400 / 16  # an H20: just under the line
    th = thresholds("oct2023")
    c = classify(
        np.array([tf * 16]),
        np.array([tf * 16 / CHIPS.die_area[i]]),
        np.array([ic]),
        np.array([True]),
        th,
    )
    assert c[0] == UNCONTROLLED


@pytest.mark.parametrize("version", ["none", "oct2022", "oct2023"])
def test_classify_one_gives_classify_answer(version: str) -> None:
    """The scalar twin a vendor's variant design asks, held to classify chip by chip: the
    catalogue, random chips and chips exactly on every line (where >= decides), under the real
    rules and under thresholds with each criterion on alone."""
    rng = np.random.default_rng(3)
    th = thresholds(version)
    lines = [v for v in (th.control_tpp, th.density_tpp, th.notify_tpp) if v > 0] or [4800.0]
    tpp = np.concatenate([CHIPS.tpp, rng.uniform(0, 8000, 200), np.repeat(lines, 3)])
    area = np.concatenate([CHIPS.die_area, rng.uniform(100, 1500, 200 + 3 * len(lines))])
    links = np.concatenate(
        [CHIPS.interconnect, rng.choice([0.0, 400.0, 600.0, 900.0], tpp.size - len(CHIPS))]
    )
    density = tpp / area
    variants = [
        th,
        Thresholds(control_tpp=4800.0),
        Thresholds(control_tpp=4800.0, control_interconnect=600.0),
        Thresholds(density_tpp=1600.0, control_density=5.92),
        Thresholds(notify_tpp=2400.0, notify_density=1.6),
    ]
    for t in variants:
        expected = classify(tpp, density, links, np.ones(tpp.size, bool), t)
        got = [classify_one(a, d, c, t) for a, d, c in zip(tpp, density, links, strict=True)]
        assert got == expected.tolist()
        assert len(set(got)) > 1 or t == thresholds("none")
