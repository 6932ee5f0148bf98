"""Vendors book supply ahead of a launch on the orders buyers place for the coming chip
(agents/vendor.py `ChipVendor.preorders`): AMD sold almost nothing in 2023 until the MI300X,
and a vendor that planned only from the orders it heard would have idled capacity right up
to the launch."""

from __future__ import annotations

from game.config.dates import parse_month
from game.sim.model import ChipWarModel


def _amd_capacity(lead: float, until: str) -> list[float]:
    model = ChipWarModel("historical", rng=3, overrides={"preorder_lead_months": lead})
    amd = next(v for v in model.vendors if v.vendor_id == "amd")
    path = []
    while model.month < parse_month(until):
        model.step()
        path.append(amd.capacity)
    return path


def test_amd_builds_capacity_ahead_of_the_mi300x_although_it_sells_little_before() -> None:
    """In the six months before the MI300X (December 2023) AMD hears the MI300X's orders and
    grows its capacity while its old parts sell little, instead of letting it shrink."""
    path = _amd_capacity(6, "2023-12")
    # the run starts 2022-10: index 7 is 2023-05, the last is 2023-12
    assert path[-1] > 1.5 * path[7]
    model = ChipWarModel("historical", rng=3)
    amd = next(v for v in model.vendors if v.vendor_id == "amd")
    model.run(10)  # to 2023-07, within six months of the launch
    assert amd.preorders() > 10 * amd.recent_demand  # orders for the coming chip dominate


def test_a_longer_lead_means_more_capacity_at_launch() -> None:
    """Booking a year ahead (the range's top) builds more by the launch than three months."""
    short, long = _amd_capacity(3, "2023-12"), _amd_capacity(12, "2023-12")
    assert long[-1] > short[-1]
    assert all(b >= a for a, b in zip(short, long, strict=True))


def test_no_preorders_when_nothing_of_the_vendors_is_coming_within_the_lead() -> None:
    """In November 2022 AMD's next chip (the MI300X) is 13 months away: beyond even a year's
    lead, so it plans from the orders it hears and nothing else."""
    model = ChipWarModel("historical", rng=3, overrides={"preorder_lead_months": 12})
    model.run(2)
    amd = next(v for v in model.vendors if v.vendor_id == "amd")
    assert amd.preorders() == 0.0
    model.run(1)  # December 2022: now exactly a year ahead
    assert amd.preorders() > 0.0
