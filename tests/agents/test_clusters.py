"""Frontier labs buy compute for the cluster they train on: chips that cannot join one (smuggled
beyond the contraband cap, rented beyond a foreign host's cap) are worth less to them, not to
clouds that train nothing."""

from __future__ import annotations

import numpy as np
import pytest

from agents.lab import _cluster_worth
from game.core.ledger import RENTED
from game.sim.model import ChipWarModel


@pytest.fixture(scope="module")
def model() -> ChipWarModel:
    m = ChipWarModel("historical", rng=5)
    m.run(12)
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
