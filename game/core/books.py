"""The month's books: what the phases bought, sold, shipped and lost this month.

The phases write here as they act; the results table, the sales table and the map read it at
the end of the month. A new set of books opens every month, so nothing here is saved.
"""

from __future__ import annotations

import numpy as np

from game.core.ledger import PROVENANCES, RENTED, SMUGGLED


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
        self, got_d: np.ndarray, price_d: np.ndarray, got_r: np.ndarray, price_r: np.ndarray
    ) -> None:
        """Direct purchases [lab, chip] and rentals [lab, chip]. Vendors book a sale where it
        is billed: direct sales to the buyer's bloc, rented capacity to the host's bloc."""
        per_lab = (got_d * price_d).sum(axis=1) + (got_r * price_r[None, :]).sum(axis=1)
        self.revenue_by_bloc = np.bincount(self.lab_bloc, weights=per_lab, minlength=self.n_blocs)
        self.bought_per_chip = got_d.sum(axis=0) + got_r.sum(axis=0)
        # [chip, bloc]: whole counts summed by the labs' blocs (a [bloc, lab] one-hot product:
        # integers add exactly in any order, at half the cost of np.add.at over rows)
        in_bloc = (self.lab_bloc[None, :] == np.arange(self.n_blocs)[:, None]).astype(np.int64)
        units = (in_bloc @ got_d).T
        if self.rental_host >= 0:
            units[:, self.lab_bloc[self.rental_host]] += got_r.sum(axis=0)
        self.book_sales(units)

    def book_sales(self, units: np.ndarray) -> None:
        """Add [chip, bloc] units sold this month, at this month's vendor prices."""
        self.sales_units += units

    def record_flows(
        self, got_d: np.ndarray, prov: np.ndarray, got_r: np.ndarray, chip_country: np.ndarray
    ) -> None:
        """This month's legal deliveries by route: from the maker's country (`chip_country`,
        per chip) to the buyer's; rented capacity from the host's country to the renter's."""
        h, c = np.nonzero(got_d)
        np.add.at(self.flows, (chip_country[c], self.lab_country[h], prov[h, c]), got_d[h, c])
        host = self.rental_host
        if host >= 0:
            h, c = np.nonzero(got_r)
            np.add.at(
                self.flows, (self.lab_country[host], self.lab_country[h], RENTED), got_r[h, c]
            )

    def record_smuggling(self, src: np.ndarray, dst: np.ndarray, qty: np.ndarray) -> None:
        """Smuggled chips on one leg of their way (maker -> transit, or transit -> buyer)."""
        np.add.at(self.flows, (src, dst, SMUGGLED), qty)
