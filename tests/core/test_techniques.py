"""Training techniques (mixture of experts) taken by how scarce a lab's compute is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from game.batch.calibration import m_capability_per_flop
from game.core.capability import technique_adoption
from game.sim.model import ChipWarModel


def test_a_scarce_lab_adopts_at_once_and_fully_a_rich_one_later_and_partly() -> None:
    scarcity = np.array([1.0, 0.0, 0.5])
    at_once = technique_adoption(scarcity, 0.0, rich_share=0.4, rich_lag_months=12.0)
    np.testing.assert_allclose(at_once, [1.0, 0.0, 0.0])
    later = technique_adoption(scarcity, 12.0, rich_share=0.4, rich_lag_months=12.0)
    np.testing.assert_allclose(later, [1.0, 0.4, 0.7])
    before = technique_adoption(scarcity, -1.0, rich_share=0.4, rich_lag_months=12.0)
    np.testing.assert_allclose(before, [0.0, 0.0, 0.0])


def test_the_dense_comparator_takes_out_the_others_techniques() -> None:
    rows = [
        {"date": "2024-12", "bloc": "china", "frontier_capability": 50.0,
         "largest_run_flop": 1e25, "technique_multiplier": 2.0},
        {"date": "2024-12", "bloc": "us", "frontier_capability": 60.0,
         "largest_run_flop": 1e26, "technique_multiplier": 1.5},
    ]  # fmt: skip
    r = pd.DataFrame(rows)
    frontier = m_capability_per_flop(r, pd.DataFrame(), "china", "us", "2024-12")
    dense = m_capability_per_flop(r, pd.DataFrame(), "china", "us", "2024-12", "dense")
    assert frontier == pytest.approx(1.0)
    assert dense == pytest.approx(1.5)


def test_china_builds_its_2024_frontier_with_more_of_mixture_of_experts_than_the_us() -> None:
    """Under the historical controls China's labs are short of compute, so its best model of
    end 2024 takes more of the technique's gain than the US's does."""
    model = ChipWarModel("historical", rng=2022)
    r = model.run(months=27)
    last = r[r["date"] == r["date"].max()].set_index("bloc")["technique_multiplier"]
    assert last["china"] > last["us"] >= 1.0
