"""The month's books: what the phases bought, sold, shipped and lost this month.

The phases write here as they act; the results table, the sales table and the map read it at
the end of the month. A new set of books opens every month, so nothing here is saved.
"""

from __future__ import annotations

import functools

import numpy as np

from game.core import ledger_kernel as kernel
from game.core.ledger import PROVENANCES, RENTED, SMUGGLED

_NO_INDEX = np.zeros(0, np.int64)


@functools.lru_cache(maxsize=8)
def _bloc_onehot(raw: bytes, dtype: str, n_blocs: int) -> np.ndarray:
    """[bloc, lab] int64 one-hot of the labs' blocs, kept by contents: new books open every
    month on the same blocs (read-only)."""
    lab_bloc = np.frombuffer(raw, dtype)
    out = (lab_bloc[None, :] == np.arange(n_blocs)[:, None]).astype(np.int64)
    out.flags.writeable = False
    return out


class MonthBooks:
    def __init__(
        self,
        lab_bloc: np.ndarray,
        lab_country: np.ndarray,
        n_chips: int,
        n_blocs: int,
        n_countries: int,
        rental_host: int,
    ) -> None:
        n_labs = lab_bloc.size
        self.lab_bloc, self.lab_country, self.rental_host = lab_bloc, lab_country, rental_host
        self.n_blocs = n_blocs
        self.smuggled_by_lab = np.zeros(n_labs, np.int64)
        self.seized_by_lab = np.zeros(n_labs, np.int64)
        self.bought_by_lab = np.zeros(n_labs, np.int64)
        self.bought_per_chip = np.zeros(n_chips)
        self.asked_per_chip = np.zeros(n_chips)  # what buyers asked for, rationed or not
        self.revenue_by_bloc = np.zeros(n_blocs)
        self.caught: list[tuple[str, int]] = []  # (route name, chips) of each broker caught
        self.sales_units = np.zeros((n_chips, n_blocs), np.int64)  # [chip, bloc billed]
        # chips moving this month: [from country, to country, provenance], and seizures by
        # the transit country where they happen (the map draws both)
        self.flows = np.zeros((n_countries, n_countries, len(PROVENANCES)), np.int64)
        self.seized_by_route = np.zeros(n_countries, np.int64)
        self.gray_demand = self.gray_supply = self.gray_shipped = 0

    def record_sales(
        self, got_d: np.ndarray, got_r: np.ndarray, per_lab: np.ndarray
    ) -> None:
        """record_sales_reference's books, added up in a kernel (game/core/ledger_kernel.py):
        whole counts, and the revenue by bloc in np.bincount's order."""
        n_labs = self.lab_bloc.size
        if (
            got_d.dtype == got_r.dtype == self.sales_units.dtype == np.int64
            and got_d.shape == got_r.shape
            and got_d.shape[0] == n_labs == per_lab.size
            and per_lab.dtype == np.float64
        ):
            host = self.rental_host
            ok, revenue, bought = kernel.sales_into(
                self.lab_bloc, self.n_blocs, int(self.lab_bloc[host]) if host >= 0 else -1,
                got_d, got_r, per_lab, self.sales_units,
            )
            if ok:
                self.revenue_by_bloc, self.bought_per_chip = revenue, bought
                return
        self.record_sales_reference(got_d, got_r, per_lab)

    def record_sales_reference(
        self, got_d: np.ndarray, got_r: np.ndarray, per_lab: np.ndarray
    ) -> None:
        """The rule in numpy, which the kernel reproduces bit for bit: read this one.
        Direct purchases [lab, chip] and rentals [lab, chip], and what each lab paid for
        them [lab] (the cost its cash was charged: the same sums, so not added up again).
        Vendors book a sale where it is billed: direct sales to the buyer's bloc, rented
        capacity to the host's bloc."""
        self.revenue_by_bloc = np.bincount(self.lab_bloc, weights=per_lab, minlength=self.n_blocs)
        self.bought_per_chip = np.add.reduce(got_d, axis=0) + np.add.reduce(got_r, axis=0)
        # [chip, bloc]: whole counts summed by the labs' blocs (a [bloc, lab] one-hot product:
        # integers add exactly in any order, at half the cost of np.add.at over rows)
        units = (_bloc_onehot(self.lab_bloc.tobytes(), self.lab_bloc.dtype.str, self.n_blocs)
                 @ got_d).T
        if self.rental_host >= 0:
            units[:, self.lab_bloc[self.rental_host]] += np.add.reduce(got_r, axis=0)
        self.book_sales(units)

    def book_sales(self, units: np.ndarray) -> None:
        """Add [chip, bloc] units sold this month, at this month's vendor prices."""
        self.sales_units += units

    def record_flows(
        self,
        lab: np.ndarray,
        maker_country: np.ndarray,
        prov: np.ndarray,
        qty: np.ndarray,
        rented_lab: np.ndarray,
        rented_qty: np.ndarray,
    ) -> None:
        """This month's legal deliveries by route, one entry per (lab, chip) cell bought
        (the caller has found them, for the ledger too): from the maker's country to the
        buyer's, in its provenance; rented capacity from the host's country to the renter's.
        Whole counts added at flat indices (numpy's fast 1-D np.add.at; integers add exactly
        in any order)."""
        if (
            lab.shape == maker_country.shape == prov.shape == qty.shape
            and rented_lab.shape == rented_qty.shape
            and qty.dtype == rented_qty.dtype == np.int64
        ):
            host = self.rental_host
            kernel.flows_into(
                self.flows, self.lab_country, lab, maker_country, prov, qty,
                int(self.lab_country[host]) if host >= 0 else -1, rented_lab, rented_qty, RENTED,
            )
            return
        self.record_flows_reference(lab, maker_country, prov, qty, rented_lab, rented_qty)

    def record_flows_reference(
        self,
        lab: np.ndarray,
        maker_country: np.ndarray,
        prov: np.ndarray,
        qty: np.ndarray,
        rented_lab: np.ndarray,
        rented_qty: np.ndarray,
    ) -> None:
        """record_flows in numpy, which the kernel reproduces (whole counts): read this one."""
        n_countries, _, n_prov = self.flows.shape
        flat = self.flows.reshape(-1)
        dst = self.lab_country[lab]
        np.add.at(flat, (maker_country * n_countries + dst) * n_prov + prov, qty)
        host = self.rental_host
        if host >= 0:
            src = int(self.lab_country[host]) * n_countries
            np.add.at(flat, (src + self.lab_country[rented_lab]) * n_prov + RENTED, rented_qty)

    def record_smuggling(
        self, src: np.ndarray | int, dst: np.ndarray | int, qty: np.ndarray
    ) -> None:
        """Smuggled chips on one leg of their way (maker -> transit, or transit -> buyer), added
        at flat indices as record_flows does; one end may be a single country for all. In a
        kernel when the ends are whole-number arrays of qty's length or single countries."""
        src_a, dst_a = isinstance(src, np.ndarray), isinstance(dst, np.ndarray)
        if (
            isinstance(qty, np.ndarray)
            and qty.dtype == np.int64
            and qty.ndim == 1
            and (src.shape == qty.shape if src_a else isinstance(src, (int, np.integer)))
            and (dst.shape == qty.shape if dst_a else isinstance(dst, (int, np.integer)))
            and (src_a or dst_a)
        ):
            kernel.leg_into(
                self.flows,
                src if src_a else _NO_INDEX, 0 if src_a else int(src),
                dst if dst_a else _NO_INDEX, 0 if dst_a else int(dst),
                qty, SMUGGLED,
            )
            return
        self.record_smuggling_reference(src, dst, qty)

    def record_smuggling_reference(
        self, src: np.ndarray | int, dst: np.ndarray | int, qty: np.ndarray
    ) -> None:
        """record_smuggling in numpy, which the kernel reproduces (whole counts): read this one."""
        n_countries, _, n_prov = self.flows.shape
        np.add.at(self.flows.reshape(-1), (src * n_countries + dst) * n_prov + SMUGGLED, qty)
