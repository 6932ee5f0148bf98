"""A facilitator's event in force (what, where, how much, until when). The model consults its
shocks where customs and capacity are used, so a shock acts through the same paths as the rest
of the world."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Shock:
    """An event in force: `factor` on `kind` for `targets`, months `start` to `end` inclusive."""

    event: str
    kind: str
    targets: tuple[str, ...]
    factor: float
    start: int
    end: int

    def active(self, month: int) -> bool:
        return self.start <= month <= self.end

    def to_plain(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "kind": self.kind,
            "targets": list(self.targets),
            "factor": self.factor,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Shock:
        return cls(
            str(d["event"]),
            str(d["kind"]),
            tuple(d["targets"]),
            float(d["factor"]),
            int(d["start"]),
            int(d["end"]),
        )


def shock_factors(shocks: list[Shock], kind: str, ids: list[str], month: int) -> np.ndarray:
    """[id] the product of the factors of this kind's shocks in force in `month`."""
    out = np.ones(len(ids))
    for shock in shocks:
        if shock.kind == kind and shock.active(month):
            for t in shock.targets:
                out[ids.index(t)] *= shock.factor
    return out
