"""The compute ledger: every chip in the world, booked by holder x chip x provenance x vintage,
in integer counts, updated with whole-array operations.

Conservation holds by construction and is checked in tests every month:
    produced = installed + in transit + seized + retired          (per chip)
Initial stocks count as produced before the start. Vintage is the calendar year a chip was
installed, kept in a ring of `service_life` slots: on 1 January the slot of the cohort that
reaches its service life is retired whole and reused for the new year's chips.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PROVENANCES = ("legal", "compliant", "domestic", "smuggled", "rented")
LEGAL, COMPLIANT, DOMESTIC, SMUGGLED, RENTED = range(len(PROVENANCES))


class Ledger:
    def __init__(self, n_holders: int, n_chips: int, service_life: int) -> None:
        self.service_life = int(service_life)
        self.stock = np.zeros((n_holders, n_chips, len(PROVENANCES), self.service_life), np.int64)
        self.produced = np.zeros(n_chips, np.int64)
        self.in_transit = np.zeros(n_chips, np.int64)
        self.seized = np.zeros(n_chips, np.int64)
        self.retired = np.zeros(n_chips, np.int64)

    def slot(self, year: int) -> int:
        return year % self.service_life

    # ------------------------------------------------------------------ flows in
    def install_new(
        self, holder: np.ndarray, chip: np.ndarray, prov: np.ndarray, qty: np.ndarray, year: int
    ) -> None:
        """Chips made this month and installed at once (legal, compliant, domestic, rented)."""
        qty = np.asarray(qty, np.int64)
        if qty.size == 0:
            return
        np.add.at(self.stock, (holder, chip, prov, self.slot(year)), qty)
        np.add.at(self.produced, chip, qty)

    def install_initial(self, holder: int, chip: int, prov: int, qty: int, year: int) -> None:
        self.install_new(
            np.array([holder]), np.array([chip]), np.array([prov]), np.array([qty]), year
        )

    def dispatch(self, chip_qty: np.ndarray) -> None:
        """Chips bought by brokers in transit countries: made, and now on their way."""
        self.produced += chip_qty
        self.in_transit += chip_qty

    def deliver(self, holder_qty: np.ndarray, chip: int, year: int) -> None:
        """Smuggled chips arrive: holder_qty[h] chips of one type, out of transit."""
        total = int(holder_qty.sum())
        self.in_transit[chip] -= total
        self.stock[:, chip, SMUGGLED, self.slot(year)] += holder_qty

    def seize(self, chip_qty: np.ndarray) -> None:
        self.in_transit -= chip_qty
        self.seized += chip_qty

    # ------------------------------------------------------------------ flows out
    def retire_cohort(self, year: int) -> np.ndarray:
        """On 1 January: the cohort installed service_life years ago leaves service."""
        s = self.slot(year)
        out = self.stock[..., s].sum(axis=(0, 2))
        self.retired += out
        self.stock[..., s] = 0
        return out

    def fail(self, rng: np.random.Generator, rate: float) -> np.ndarray:
        """Random failures across the installed base (drawn once a year)."""
        idx = np.nonzero(self.stock)
        lost = rng.binomial(self.stock[idx], rate)
        self.stock[idx] -= lost
        out = np.bincount(idx[1], weights=lost, minlength=self.stock.shape[1]).astype(np.int64)
        self.retired += out
        return out

    def transfer_provenance(
        self, holders: np.ndarray, prov: int, to_holder: int, to_prov: int
    ) -> int:
        """Move every chip of one provenance held by `holders` to another holder (rented capacity
        reverting to its host when remote access is cut)."""
        moved = self.stock[holders, :, prov, :].sum(axis=0)
        if not moved.any():
            return 0
        self.stock[holders, :, prov, :] = 0
        self.stock[to_holder, :, to_prov, :] += moved
        return int(moved.sum())

    # ------------------------------------------------------------------ views
    def chips_held(self) -> np.ndarray:
        """[holder, chip] counts."""
        return self.stock.sum(axis=(2, 3))

    def by_provenance(self) -> np.ndarray:
        """[holder, chip, provenance] counts."""
        return self.stock.sum(axis=3)

    def installed(self) -> np.ndarray:
        """Per chip."""
        return self.stock.sum(axis=(0, 2, 3))

    def conservation_error(self) -> np.ndarray:
        """Per chip: produced - (installed + in transit + seized + retired); zero when sound."""
        return self.produced - (self.installed() + self.in_transit + self.seized + self.retired)

    # ------------------------------------------------------------------ state
    ARRAYS = ("stock", "produced", "in_transit", "seized", "retired")

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"service_life": self.service_life}, {
            f"ledger.{k}": getattr(self, k).copy() for k in self.ARRAYS
        }

    def load_state(self, plain: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.service_life = int(plain["service_life"])
        for k in self.ARRAYS:
            setattr(self, k, arrays[f"ledger.{k}"].copy())
