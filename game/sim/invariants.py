"""Accounting that must hold after every step; the tests check it on random worlds, and a
model built with `check_invariants=True` checks it every month."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

CAPACITY_TOLERANCE = 1e-9  # relative: floating-point rounding of chips x load against capacity

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel


def invariant_problems(model: ChipWarModel) -> list[str]:
    out = []
    err = model.ledger.conservation_error()
    if err.any():
        bad = {model.chips.ids[i]: int(err[i]) for i in np.flatnonzero(err)}
        out.append(f"chips not conserved: {bad}")
    if (model.ledger.stock < 0).any():
        out.append("negative stock")
    if model.ledger.totals_error():
        out.append("the ledger's running totals have drifted from its stock")
    if (model.ledger.in_transit < 0).any():
        out.append("negative chips in transit")
    brokers = model.brokers
    moving = brokers.ship_qty > 0
    shipping = np.bincount(
        brokers.ship_chip[moving], weights=brokers.ship_qty[moving], minlength=len(model.chips)
    ).astype(np.int64)
    if not np.array_equal(shipping, model.ledger.in_transit):
        out.append("brokers' shipments do not match chips in transit")
    over = brokers.ship_load > brokers.capacity * (1.0 + CAPACITY_TOLERANCE)
    if over.any():
        out.append(f"brokers shipping more than their capacity: {np.flatnonzero(over).tolist()}")
    if (model.labs.cash < -1e-6).any() or (model.labs.escrow < -1e-6).any():
        out.append("negative lab cash")
    if (brokers.cash[brokers.alive] < -1e-6).any():
        out.append("negative broker cash")
    if model.hbm.stockpile < 0:
        out.append("negative HBM stockpile")
    return out
