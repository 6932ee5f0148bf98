"""Frontier labs buy compute for the cluster they train on: chips that cannot join one (smuggled
beyond the contraband cap, rented beyond a foreign host's cap) are worth less to them, not to
clouds that train nothing."""

from __future__ import annotations

import numpy as np
import pytest

from agents.lab import _cluster_worth, _offers
from game.core.ledger import RENTED
from game.sim.model import ChipWarModel


@pytest.fixture(scope="module")
def model() -> ChipWarModel:
    m = ChipWarModel("historical", rng=5)
    m.run(15)  # to 2023-12: AMD sells the MI300X
    return m


def test_chips_past_the_cap_lose_their_training_value_to_frontier_labs(model) -> None:
    n = len(model.labs)
    cap = 1000.0
    none = _cluster_worth(model, np.zeros(n), cap)
    np.testing.assert_allclose(none, 1.0)  # below the cap every chip joins
    at_ten_caps = _cluster_worth(model, np.full(n, 10 * cap), cap)
    frontier = model.labs.frontier
    w = model.p.inference_weight_frontier
    np.testing.assert_allclose(at_ten_caps[frontier], 0.1 ** (1 - w))
    np.testing.assert_allclose(at_ten_caps[~frontier], 1.0)  # clouds train no frontier model


def test_frontier_labs_rent_less_abroad_when_hosts_rent_them_smaller_clusters() -> None:
    """China's frontier labs rent abroad for a cluster to train on; a host that rents one lab
    at most 1,000 chips in a cluster gets less of their money than one renting 20,000."""
    rented = []
    for cap in (1000, 20000):
        model = ChipWarModel(
            "historical", rng=2, months=30, overrides={"rented_cluster_chips": cap}
        )
        model.run()
        mine = model.labs.frontier & (model.labs.bloc == model.china_bloc)
        rented.append(float(model.ledger.by_provenance()[mine][:, :, RENTED].sum()))
    assert rented[0] < 0.7 * rented[1], rented


def test_frontier_labs_weigh_a_chip_by_how_far_it_joins_the_cluster_they_train_on(model) -> None:
    """A lab trains its largest run in one software ecosystem: with a CUDA fleet, a ROCm chip
    bought now adds little to it, so frontier labs weigh AMD's chips below their value per
    dollar; chips of the ecosystem they train on keep it, and clouds, which train no frontier
    model, weigh every chip as before."""
    active = model.labs.founded <= model.month
    p = model.p
    strength = p.ecosystem_lockin
    try:
        p.ecosystem_lockin = 0.0
        free = _offers(model, active).utility
        p.ecosystem_lockin = 1.0
        locked = _offers(model, active).utility
    finally:
        p.ecosystem_lockin = strength
    n = len(model.chips)
    rocm = np.flatnonzero(model.chips.ecosystem == model.chips.ecosystem_ids.index("rocm"))
    cuda = np.flatnonzero(model.chips.ecosystem == model.chips.ecosystem_ids.index("cuda"))
    us = model.labs.frontier & (model.labs.bloc == model.bloc_ids.index("us"))
    open_ = np.isfinite(free[:, :n])
    amd = open_[:, rocm] & us[:, None]
    assert amd.any()  # AMD sells to US frontier labs this month
    assert (locked[:, rocm][amd] < free[:, rocm][amd] - 1.0).all()
    nvidia = open_[:, cuda] & us[:, None]
    np.testing.assert_allclose(locked[:, cuda][nvidia], free[:, cuda][nvidia])
    clouds = ~model.labs.frontier[:, None] & np.isfinite(free)
    np.testing.assert_allclose(locked[clouds], free[clouds])


def test_lockin_keeps_us_frontier_fleets_in_one_ecosystem_and_china_still_moves_to_cann() -> None:
    """Through 2028: with lock-in, US frontier labs stay on CUDA (the ROCm share of their
    compute falls and more of it is in one cluster), while China's frontier labs, cut off from
    Nvidia's best, still build up a CANN pool as their domestic supply grows."""
    out = {}
    for strength in (0.0, 1.0):
        model = ChipWarModel(
            "historical", rng=3, months=75, overrides={"ecosystem_lockin": strength}
        )
        model.run()
        labs, view, eco = model.labs, model.view, list(model.chips.ecosystem_ids)
        us = labs.frontier & (labs.bloc == model.bloc_ids.index("us"))
        china = labs.frontier & (labs.bloc == model.china_bloc)
        pool_us, pool_cn = view.lab_pool_flops[us], view.lab_pool_flops[china]
        out[strength] = (
            pool_us[:, eco.index("rocm")].sum() / pool_us.sum(),
            view.lab_cluster_flops[us].sum() / pool_us.sum(),
            pool_cn[:, eco.index("cann")].sum() / pool_cn.sum(),
        )
    (rocm_free, one_free, _), (rocm_locked, one_locked, cann_locked) = out[0.0], out[1.0]
    assert rocm_locked < 0.25 * rocm_free, out
    assert one_locked > one_free + 0.05, out
    assert cann_locked > 0.15, out
