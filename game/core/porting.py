"""How much of each lab's work runs on each software ecosystem (actors.yaml `ported`).

Why: a chip is only worth buying for the work that has been ported to its software. Meta moved
its PyTorch stack to ROCm and bought AMD for close to half of its 2024 accelerators, while
Google, Anthropic and xAI bought none, though an MI300X gave more compute per dollar than an
H100 to all of them. Value per dollar alone hands AMD every buyer's orders in proportion; the
ported share keeps AMD's orders with the labs that had done the porting.
"""

from __future__ import annotations

import bisect

import numpy as np

from game.config.dates import parse_month
from game.config.world import LabSpec

# Porting tables as built, by the labs' records (the list object), number of labs and
# ecosystems (records, the table never handed out): a projection fan builds 32 models of one
# world. A few at most: emptied when full.
_BUILT: dict[tuple[int, int, tuple[str, ...]], tuple[list[LabSpec], PortingTable]] = {}
_BUILT_MAX = 8


class PortingTable:
    """[lab, ecosystem] share of each lab's work ported to each ecosystem, in steps by month.
    Labs and ecosystems that the data does not name are fully open (1)."""

    def __init__(self, specs: list[LabSpec], n_labs: int, ecosystem_ids: list[str]) -> None:
        """The steps of one built before for the same labs' records (a frozen list, shared by
        every model of a process), number of labs and ecosystems: its tables are read-only,
        so shared; its months copied. Else built, and kept."""
        key = (id(specs), n_labs, tuple(ecosystem_ids))
        kept = _BUILT.get(key)
        if kept is None or kept[0] is not specs:
            built = PortingTable.__new__(PortingTable)
            built._build(specs, n_labs, ecosystem_ids)
            if len(_BUILT) >= _BUILT_MAX:
                _BUILT.clear()
            _BUILT[key] = kept = (specs, built)
        self.months = kept[1].months.copy()
        self._months = list(kept[1]._months)
        self.tables = kept[1].tables
        self.limited = kept[1].limited
        self._kept: tuple[tuple, tuple[np.ndarray, np.ndarray]] | None = None

    def _build(self, specs: list[LabSpec], n_labs: int, ecosystem_ids: list[str]) -> None:
        """The steps read from the labs' records (the constructor's, before any is kept)."""
        n_eco = len(ecosystem_ids)
        changes: dict[int, list[tuple[int, int, float]]] = {}
        first: list[tuple[int, int, float]] = []
        for i, spec in enumerate(specs):
            for eco, steps in spec.ported.items():
                e = ecosystem_ids.index(eco)
                if isinstance(steps, list):
                    for step in steps:
                        changes.setdefault(parse_month(step.since), []).append((i, e, step.share))
                    first.append((i, e, 0.0))  # before its first step: not ported
                else:
                    first.append((i, e, float(steps)))
        share = np.ones((n_labs, n_eco))
        for i, e, s in first:
            share[i, e] = s
        self.months = np.array(sorted(changes), np.int64)
        self._months = self.months.tolist()  # as step() searches them (a list: no numpy call)
        tables = [share.copy()]
        for month in self.months:
            share = share.copy()
            for i, e, s in changes[int(month)]:
                share[i, e] = s
            tables.append(share)
        self.tables = np.stack(tables)  # [step, lab, ecosystem]; step 0 before any change
        self.tables.flags.writeable = False
        self.limited = bool((self.tables < 1.0).any())

    def step(self, month: int) -> int:
        """Index into `tables` of the shares in force in `month`."""
        # np.searchsorted(months, month, side="right")'s index, found in the Python list: a
        # lab's choice asks every month, and numpy's call costs more than the search
        return bisect.bisect_right(self._months, month)

    def shares(self, month: int, scale: float) -> np.ndarray:
        """[lab, ecosystem] shares in force in `month`, each share below 1 scaled by `scale`
        (the drawn uncertainty ported_share_scale) and capped at 1."""
        table = self.tables[self.step(month)]
        if scale == 1.0:
            return table
        return np.where(table < 1.0, np.minimum(table * scale, 1.0), 1.0)

    def by_chip(
        self, month: int, scale: float, ecosystem: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """([lab, chip] ported shares, their logs: -inf where nothing is ported) in `month`,
        or None while every share is 1. Kept until the step, the scale or the chips'
        `ecosystem` [chip] move (a lab's choice reads it every month)."""
        if not self.limited:
            return None
        key = (self.step(month), scale, ecosystem.tobytes())
        if self._kept is None or self._kept[0] != key:
            share = self.shares(month, scale)[:, ecosystem]
            with np.errstate(divide="ignore"):
                log = np.log(share)
            for a in (share, log):
                a.flags.writeable = False
            self._kept = (key, (share, log))
        return self._kept[1]
