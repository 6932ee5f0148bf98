"""What the rules and prices are this month, as arrays every phase reads.

The view is derived from the state (policy, catalogue, vendors, shocks) by the model in one
place (game/sim/market_view.py) and never saved: a restored or forked world derives it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class GrayMarket:
    """The gray market's own state, which brokers move month to month (saved with the world)."""

    opened: bool = False
    markup: float = 1.5
    expected_margin: float = 0.0
    unmet_share: float = 1.0


def _empty(*shape: int, dtype: type = float) -> np.ndarray:
    return np.zeros(shape, dtype)


@dataclass
class MarketView:
    # the rules: [chip] control class and whether US rules apply; [country] tier; [lab] listed
    chip_class: np.ndarray = field(default_factory=lambda: _empty(0))
    subject: np.ndarray = field(default_factory=lambda: _empty(0, dtype=bool))
    tier: np.ndarray = field(default_factory=lambda: _empty(0, dtype=np.int64))
    listed: np.ndarray = field(default_factory=lambda: _empty(0, dtype=bool))
    # share of a purchase allowed: [country, chip] and [lab, chip]
    country_access: np.ndarray = field(default_factory=lambda: _empty(0, 0))
    lab_access: np.ndarray = field(default_factory=lambda: _empty(0, 0))
    # prices and what a chip is worth to a buyer: [chip], and [buyer kind, chip]
    price: np.ndarray = field(default_factory=lambda: _empty(0))
    purchase_value: np.ndarray = field(default_factory=lambda: _empty(2, 0))
    flops_per_chip: np.ndarray = field(default_factory=lambda: _empty(0))
    # vendors: [vendor] output, home bloc, and [vendor, bloc] markets they may sell in
    vendor_capacity: np.ndarray = field(default_factory=lambda: _empty(0))
    vendor_bloc: np.ndarray = field(default_factory=lambda: _empty(0, dtype=np.int64))
    vendor_markets: np.ndarray = field(default_factory=lambda: _empty(0, 0, dtype=bool))
    # [country] H100e left under the diffusion cap (inf where uncapped)
    cap_left: np.ndarray = field(default_factory=lambda: _empty(0))
    variant_market: int = -1  # the closed country with the most demand, or -1
    # the gray market: the chip brokers deal in, its prices, and each route's risk
    gray_chip: int = -1
    gray_price: float = 0.0
    transit_price: float = 0.0
    # USD of a broker's monthly capacity one gray chip takes: its transit price, scaled by how
    # much harder its systems are to move and run than an 8-GPU server's (agents/broker.py)
    gray_load: float = 0.0
    route_risk: np.ndarray = field(default_factory=lambda: _empty(0))
    customs_effort: np.ndarray = field(default_factory=lambda: np.ones(0))  # [country]
    routes_open: np.ndarray = field(default_factory=lambda: _empty(0, dtype=np.int64))
    enforcement: float = 1.0
    # renting abroad: the host lab (or -1) and the H100e it rents out
    rental_host: int = -1
    rental_capacity: float = 0.0
    # [lab, software ecosystem] usable FLOP/s of the chips each lab holds, set after buying
    lab_pool_flops: np.ndarray = field(default_factory=lambda: _empty(0, 0))
    # [lab] usable FLOP/s of the largest cluster each lab can train one model on
    lab_cluster_flops: np.ndarray = field(default_factory=lambda: _empty(0))

    def __post_init__(self) -> None:
        # What derive_market_view keeps from one derivation to the next, keyed on the inputs it
        # came from (the levers' stamp, the catalogue's revision, the month): the rule engine's
        # arrays move only with a lever or a new chip, yet the view is derived twice a month.
        # Not a field: it is no part of what the view says, and a fresh view starts empty.
        self.derived: dict[str, tuple[Any, Any]] = {}
