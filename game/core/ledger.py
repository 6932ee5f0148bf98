"""The compute ledger: every chip in the world, booked by holder x chip x provenance x vintage,
in integer counts, updated with whole-array operations.

Conservation holds by construction and is checked in tests every month:
    produced = installed + in transit + seized + retired          (per chip)
Initial stocks count as produced before the start. Vintage is the calendar year a chip was
installed, kept in a ring of `service_life` slots: on 1 January the slot of the cohort that
reaches its service life is retired whole and reused for the new year's chips.

The totals per holder (by chip, and by chip and provenance) are kept up to date by every flow,
so that reading them each month costs nothing however large the world: the full stock array
stays the authority, and `totals_error` checks the running totals against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from game.core import ledger_kernel as kernel

PROVENANCES = ("legal", "compliant", "domestic", "smuggled", "rented")
LEGAL, COMPLIANT, DOMESTIC, SMUGGLED, RENTED = range(len(PROVENANCES))
# Where a holder's chips stand, by provenance: chips bought openly (legal, compliant variants,
# domestic) and smuggled ones in its own country; rented chips in the host's data centres
# abroad. A training cluster is built at one site (capability.largest_cluster).
SITES = ("home", "abroad")
SITE_OF_PROVENANCE = np.array([0, 0, 0, 0, 1])
# For the provenances whose chips stand where the lab does not control them, the parameter
# that caps how many of its chips one training cluster may hold (capability.largest_cluster;
# agents/lab.py values chips past the cap only for serving).
CLUSTER_CAP_PARAMETER = {RENTED: "rented_cluster_chips", SMUGGLED: "smuggled_cluster_chips"}


class Ledger:
    def __init__(self, n_holders: int, n_chips: int, service_life: int) -> None:
        self.service_life = int(service_life)
        self.stock = np.zeros((n_holders, n_chips, len(PROVENANCES), self.service_life), np.int64)
        self.produced = np.zeros(n_chips, np.int64)
        self.in_transit = np.zeros(n_chips, np.int64)
        self.seized = np.zeros(n_chips, np.int64)
        self.retired = np.zeros(n_chips, np.int64)
        # the running totals of an empty stock (what recount() finds, without reading it)
        self._by_prov = np.zeros(self.stock.shape[:3], np.int64)  # [holder, chip, provenance]
        self._held = np.zeros(self.stock.shape[:2], np.int64)  # [holder, chip]
        self._views: tuple[np.ndarray, np.ndarray] | None = None

    def recount(self) -> None:
        """Rebuild the running totals from the stock (after writing `stock` directly, or
        loading it): recount_reference's, from one compiled pass (whole counts: the same
        numbers in any order)."""
        if self.stock.dtype == np.int64 and self.stock.ndim == 4:
            self._by_prov, self._held = kernel.totals_of(self.stock)
            self._views = None
            return
        self.recount_reference()

    def recount_reference(self) -> None:
        """recount in numpy, which the kernel reproduces: read this one."""
        self._by_prov = self.stock.sum(axis=3)  # [holder, chip, provenance]
        self._held = self._by_prov.sum(axis=2)  # [holder, chip]
        self._views = None

    def slot(self, year: int) -> int:
        return year % self.service_life

    def _add(
        self,
        holder: np.ndarray,
        chip: np.ndarray,
        prov: np.ndarray,
        slot: np.ndarray | int,
        qty: np.ndarray,
    ) -> None:
        """Add signed counts to cells of the stock and to the running totals. One flat index
        serves all three arrays (they share their leading axes), and 1-D np.add.at is numpy's
        fast path: about three times quicker than indexing the 4-D array with a tuple."""
        _, n_chips, n_prov, n_slots = self.stock.shape
        cell = (holder * n_chips + chip) * n_prov + prov  # index into [holder, chip, provenance]
        np.add.at(self.stock.reshape(-1), cell * n_slots + slot, qty)
        np.add.at(self._by_prov.reshape(-1), cell, qty)
        np.add.at(self._held.reshape(-1), cell // n_prov, qty)

    # ------------------------------------------------------------------ flows in
    def install_new(
        self, holder: np.ndarray, chip: np.ndarray, prov: np.ndarray, qty: np.ndarray, year: int
    ) -> None:
        """Chips made this month and installed at once (legal, compliant, domestic, rented)."""
        qty = np.asarray(qty, np.int64)
        if qty.size == 0:
            return
        holder, chip, prov = np.asarray(holder), np.asarray(chip), np.asarray(prov)
        if holder.shape == chip.shape == prov.shape == qty.shape and qty.ndim == 1:
            kernel.install_rows(
                self.stock, self._by_prov, self._held, self.produced, holder, chip, prov,
                self.slot(year), qty,
            )
            return
        self.install_new_reference(holder, chip, prov, qty, year)

    def install_targets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What install_new writes (the stock, the running totals by provenance and by chip,
        the chips produced), for a caller whose own kernel installs its rows as install_new's
        kernel does (agents/procure_kernel.finish: one call for the labs' whole delivery)."""
        return self.stock, self._by_prov, self._held, self.produced

    def install_new_reference(
        self, holder: np.ndarray, chip: np.ndarray, prov: np.ndarray, qty: np.ndarray, year: int
    ) -> None:
        """install_new in numpy (any broadcastable rows), which the kernel reproduces (whole
        counts: the same numbers in any order): read this one."""
        qty = np.asarray(qty, np.int64)
        if qty.size == 0:
            return
        self._add(np.asarray(holder), np.asarray(chip), np.asarray(prov), self.slot(year), qty)
        np.add.at(self.produced, chip, qty)

    def install_initial(self, holder: int, chip: int, prov: int, qty: int, year: int) -> None:
        self.install_new(
            np.array([holder]), np.array([chip]), np.array([prov]), np.array([qty]), year
        )

    def dispatch(self, chip_qty: np.ndarray) -> None:
        """Chips bought by brokers in transit countries: made, and now on their way."""
        self.produced += chip_qty
        self.in_transit += chip_qty

    def dispatch_one(self, chip: int, qty: int) -> None:
        """dispatch() of one chip's count: two cells moved, not two whole arrays."""
        self.produced[chip] += qty
        self.in_transit[chip] += qty

    def deliver(self, holder_qty: np.ndarray, chip: int, year: int) -> None:
        """Smuggled chips arrive: holder_qty[h] chips of one type, out of transit."""
        if holder_qty.dtype == np.int64 and holder_qty.shape == self.stock.shape[:1]:
            kernel.deliver_column(
                self.stock, self._by_prov, self._held, self.in_transit, holder_qty, int(chip),
                SMUGGLED, self.slot(year),
            )
            return
        self.deliver_reference(holder_qty, chip, year)

    def deliver_reference(self, holder_qty: np.ndarray, chip: int, year: int) -> None:
        """deliver in numpy, which the kernel reproduces (whole counts): read this one."""
        total = int(np.add.reduce(holder_qty, axis=None))
        self.in_transit[chip] -= total
        self.stock[:, chip, SMUGGLED, self.slot(year)] += holder_qty
        self._by_prov[:, chip, SMUGGLED] += holder_qty
        self._held[:, chip] += holder_qty

    def seize(self, chip_qty: np.ndarray) -> None:
        self.in_transit -= chip_qty
        self.seized += chip_qty

    # ------------------------------------------------------------------ flows out
    def retire_cohort(self, year: int) -> np.ndarray:
        """On 1 January: the cohort installed service_life years ago leaves service."""
        return kernel.retire_slot(
            self.stock, self._by_prov, self._held, self.retired, self.slot(year)
        )

    def retire_cohort_reference(self, year: int) -> np.ndarray:
        """retire_cohort in numpy, which the kernel reproduces (whole counts): read this one."""
        s = self.slot(year)
        cohort = self.stock[..., s]
        out = cohort.sum(axis=(0, 2))
        self.retired += out
        self._by_prov -= cohort
        self._held -= cohort.sum(axis=2)
        self.stock[..., s] = 0
        return out

    def fail(self, rng: np.random.Generator, rate: float) -> np.ndarray:
        """Random failures across the installed base (drawn once a year). The cells and their
        counts are found, and the losses booked, in kernels; the draws are the generator's, on
        the same counts in the same (C) order."""
        hh, cc, pp, ss, counts = kernel.stocked_cells(self.stock)
        lost = rng.binomial(counts, rate)
        out = kernel.remove_failed(
            self.stock, self._by_prov, self._held, hh, cc, pp, ss, lost, self.stock.shape[1]
        )
        self.retired += out
        return out

    def fail_reference(self, rng: np.random.Generator, rate: float) -> np.ndarray:
        """fail in numpy, which the kernels reproduce (whole counts): read this one."""
        idx = np.nonzero(self.stock)
        lost = rng.binomial(self.stock[idx], rate)
        self._add(idx[0], idx[1], idx[2], idx[3], -lost)
        out = np.bincount(idx[1], weights=lost, minlength=self.stock.shape[1]).astype(np.int64)
        self.retired += out
        return out

    def transfer_provenance(
        self, holders: np.ndarray, prov: int, to_holder: int, to_prov: int
    ) -> int:
        """Move every chip of one provenance held by `holders` to another holder (rented capacity
        reverting to its host when remote access is cut)."""
        # The running totals say first whether there is anything to move (counts are never
        # negative): the usual month after a cut, nothing, without gathering the stock.
        if not kernel.any_held(self._by_prov, np.asarray(holders), prov):
            return 0
        moved = self.stock[holders, :, prov, :].sum(axis=0)  # [chip, slot]
        if not moved.any():
            return 0
        self.stock[holders, :, prov, :] = 0
        self.stock[to_holder, :, to_prov, :] += moved
        per_chip = moved.sum(axis=1)
        self._by_prov[holders, :, prov] = 0
        self._by_prov[to_holder, :, to_prov] += per_chip
        self._held[holders] = self._by_prov[holders].sum(axis=2)
        self._held[to_holder] += per_chip
        return int(moved.sum())

    # ------------------------------------------------------------------ views (read-only)
    def chips_held(self) -> np.ndarray:
        """[holder, chip] counts."""
        return self._read_only_views()[0]

    def by_provenance(self) -> np.ndarray:
        """[holder, chip, provenance] counts."""
        return self._read_only_views()[1]

    def held_by_provenance(self) -> np.ndarray:
        """[holder, provenance] counts: np.add.reduce(by_provenance(), axis=1), in a kernel
        (whole counts: the same numbers in any order)."""
        return kernel.held_by_provenance(self._by_prov)

    def _read_only_views(self) -> tuple[np.ndarray, np.ndarray]:
        """Read-only views of the running totals, made once: views share the totals' memory,
        so they follow every flow. Made again if the totals were replaced (recount) or the
        views parted from them (a copied or unpickled ledger)."""
        views = self._views
        if views is None or views[0].base is not self._held or views[1].base is not self._by_prov:
            views = self._views = (_read_only(self._held), _read_only(self._by_prov))
        return views

    def installed(self) -> np.ndarray:
        """Per chip, counted from the stock itself (the authority)."""
        return self.stock.sum(axis=(0, 2, 3))

    def conservation_error(self) -> np.ndarray:
        """Per chip: produced - (installed + in transit + seized + retired); zero when sound."""
        return self.produced - (self.installed() + self.in_transit + self.seized + self.retired)

    def totals_error(self) -> bool:
        """True if the running totals have drifted from the stock (a bookkeeping bug)."""
        by_prov = self.stock.sum(axis=3)
        return not (
            np.array_equal(by_prov, self._by_prov)
            and np.array_equal(by_prov.sum(axis=2), self._held)
        )

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
        self.recount()


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view
