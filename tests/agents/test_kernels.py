"""The compiled kernels give the numpy reference's numbers bit for bit, month after month of
real runs: the labs' allocation (agents/allocation_kernel.py against
agents.lab._allocate_reference) and the labs' compute, their pools and largest clusters
(game/core/cluster_kernel.py, capability.measure_compute, against
capability.measure_compute_reference). Scenarios chosen to reach every branch: the buy-domestic
mandate, the diffusion cap, rentals, an embargo."""

from __future__ import annotations

import numpy as np
import pytest

import agents.lab as lab
import game.sim.model as sim_model
from game.core.capability import measure_compute, measure_compute_reference
from game.sim.model import ChipWarModel
from game.sim.runner import forget

CASES = [("historical", 1), ("domestic_push", 4), ("total_embargo", 2), ("leaky_enforcement", 3)]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_kernels_match_the_numpy_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {"allocate": 0, "mandate": 0, "capped": 0, "cluster": 0, "differ": []}
    kernel_allocate = lab._allocate

    def allocate(model, offers, spend, mandate):  # noqa: ANN001, ANN202
        want = lab._allocate_reference(model, offers, spend.copy(), mandate)
        got = kernel_allocate(model, offers, spend, mandate)
        seen["allocate"] += 1
        seen["mandate"] += mandate > 0
        seen["capped"] += bool(np.isfinite(model.view.cap_left).any())
        if not (_same(got[0], want[0]) and _same(got[1], want[1])):
            seen["differ"].append(("allocate", model.date))
        return got

    def cluster(*args):  # noqa: ANN002, ANN202
        got = measure_compute(*args)
        want = measure_compute_reference(*args)
        seen["cluster"] += 1
        if not (_same(got[0], want[0]) and _same(got[1], want[1])):
            seen["differ"].append(("measure_compute", ""))
        return got

    monkeypatch.setattr(lab, "_allocate", allocate)
    # procure fuses the allocation with the delivery (test_kernels_procure.py): the staged path
    monkeypatch.setattr(lab, "procure", lab.procure_staged)
    monkeypatch.setattr(sim_model, "measure_compute", cluster)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["allocate"] == 60 and seen["cluster"] == 60
    if scenario in ("historical", "domestic_push"):
        assert seen["mandate"] > 0  # the buy-domestic floor was exercised
    if scenario == "historical":
        assert seen["capped"] > 0  # and the diffusion cap
