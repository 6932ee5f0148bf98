"""A lab buys a chip only for the share of its work ported to the chip's software (actors.yaml
`ported`): the labs that never ported to ROCm hold no AMD chip, the porting decides how much
AMD sells, and a bad `ported` entry is refused with its line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from game.config.errors import InputError
from game.config.paths import DATA_DIR
from game.config.world import LabSpec, PortedStep, default_world_data, load_world_data
from game.core.porting import PortingTable
from game.sim.model import ChipWarModel
from game.sim.runner import forget

ECOSYSTEMS = ["cuda", "rocm", "cann"]


def _lab(lab_id: str, ported: dict) -> LabSpec:
    return LabSpec(
        id=lab_id,
        name=lab_id,
        country="us",
        frontier=True,
        growth="frontier",
        budget_musd=1.0,
        risk_appetite=0.0,
        best_model_flop=0.0,
        initial_stock={},
        source="s",
        ported=ported,
        ported_source="s" if ported else None,
    )


def test_shares_step_in_time_and_unnamed_ecosystems_stay_open() -> None:
    steps = [PortedStep(since="2024-01", share=0.3), PortedStep(since="2026-07", share=0.5)]
    labs = [_lab("a", {"rocm": steps}), _lab("b", {"rocm": 0.0}), _lab("c", {})]
    table = PortingTable(labs, 4, ECOSYSTEMS)  # a fourth lab with no spec (synthetic)
    before, first, later = 2023 * 12 + 11, 2024 * 12, 2026 * 12 + 7
    rocm = ECOSYSTEMS.index("rocm")
    assert table.shares(before, 1.0)[:, rocm].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert table.shares(first, 1.0)[:, rocm].tolist() == [0.3, 0.0, 1.0, 1.0]
    assert table.shares(later, 1.0)[:, rocm].tolist() == [0.5, 0.0, 1.0, 1.0]
    assert np.all(table.shares(later, 1.0)[:, [0, 2]] == 1.0)  # CUDA and CANN: open to all
    # the uncertainty scale moves the shares below 1, caps them at 1 and leaves 0 at 0
    assert table.shares(later, 3.0)[:, rocm].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert table.shares(first, 0.5)[:, rocm].tolist() == [0.15, 0.0, 1.0, 1.0]


def test_a_world_without_porting_limits_nothing() -> None:
    table = PortingTable([_lab("a", {}), _lab("b", {})], 2, ECOSYSTEMS)
    assert table.by_chip(2025 * 12, 1.0, np.array([0, 1, 2])) is None


def _amd_held(model: ChipWarModel) -> np.ndarray:
    """[lab] AMD chips each lab holds."""
    amd = model.chips.vendor == model.vendor_ids.index("amd")
    return model.ledger.by_provenance()[:, amd, :].sum(axis=(1, 2))


def _run_to_2026(overrides: dict | None = None, world=None) -> ChipWarModel:
    model = ChipWarModel("historical", rng=5, months=39, overrides=overrides, world=world)
    while model.turn < 39:  # October 2022 to December 2025
        model.step()
    return model


def _amd_revenue_2025(model: ChipWarModel) -> float:
    sales = model.sales()
    amd = (sales.vendor == "amd") & sales.date.str.startswith("2025")
    return float(sales.revenue_usd[amd].sum())


@pytest.fixture(scope="module")
def shipped() -> ChipWarModel:
    model = _run_to_2026()
    yield model
    forget(model)


def test_labs_that_never_ported_to_rocm_hold_no_amd_chip(shipped) -> None:
    held = _amd_held(shipped)
    world = default_world_data()
    never = [i for i, lab in enumerate(world.labs) if lab.ported.get("rocm") == 0.0]
    assert never, "the shipped data names labs with no ROCm port"
    assert held[never].sum() == 0
    assert held[shipped.lab_index["meta"]] > 0  # the lab that ported its whole stack buys AMD
    frontier_us = [i for i, lab in enumerate(world.labs) if lab.country == "us" and lab.frontier]
    assert int(np.argmax(held[frontier_us])) == frontier_us.index(shipped.lab_index["meta"])


def test_porting_decides_how_much_amd_sells(shipped) -> None:
    """Half the reported porting sells less AMD, twice as much sells more, and a world where
    every lab runs everything (no porting data) sells more again: value per dollar alone
    gives AMD orders from labs that never ran its software."""
    base = _amd_revenue_2025(shipped)
    low = _run_to_2026({"ported_share_scale": 0.5})
    high = _run_to_2026({"ported_share_scale": 2.0})
    world = default_world_data()
    open_world = world.model_copy(
        update={"labs": [lab.model_copy(update={"ported": {}}) for lab in world.labs]}
    )
    everyone = _run_to_2026(world=open_world)
    revenues = [_amd_revenue_2025(m) for m in (low, high, everyone)]
    for m in (low, high, everyone):
        forget(m)
    assert revenues[0] < base < revenues[1] < revenues[2]


def _data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "ported: {rocm: 1.0}",
            "ported: {romc: 1.0}",
            "labs[2].ported.romc: unknown ecosystem 'romc'",
        ),
        (
            "{since: 2026-07, share: 0.5}",
            "{since: 2023-06, share: 0.5}",
            "labs[0].ported.rocm: expected the steps' months in rising order",
        ),
        (
            "ported: {rocm: 1.0}, ported_source: rocm_ports",
            "ported: {rocm: 1.0}",
            "labs[2].ported: expected a ported_source beside it",
        ),
        ("ported: {rocm: 1.0}", "ported: {rocm: 1.5}", "labs[2].ported.rocm"),
    ],
)
def test_a_bad_ported_entry_is_refused_with_its_line_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    folder = _data_copy(tmp_path)
    actors = folder / "actors.yaml"
    text = actors.read_text()
    assert old in text
    actors.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_world_data(folder)
    found = str(caught.value)
    assert "actors.yaml:" in found and message in found


def test_step_is_numpys_search_of_the_months() -> None:
    """step() finds the shares in force as np.searchsorted(side="right") would, on each
    change's month, the months either side and far before and after."""
    steps = [PortedStep(since="2024-01", share=0.3), PortedStep(since="2026-07", share=0.5)]
    more = [PortedStep(since="2025-03", share=0.2)]
    table = PortingTable([_lab("a", {"rocm": steps}), _lab("b", {"rocm": more})], 2, ECOSYSTEMS)
    months = [m + d for m in table.months.tolist() for d in (-1, 0, 1)] + [0, 10**6]
    for month in months:
        assert table.step(month) == int(np.searchsorted(table.months, month, side="right"))
    assert sorted({table.step(m) for m in months}) == [0, 1, 2, 3]
