"""The export-control rule engine: classifies every chip under the thresholds in force and decides
what share of a purchase may go ahead for each buyer (destination country x end user), all as
whole-array operations over the catalogue.

Only chips of US jurisdiction are subject to the rules (the vendor's country is the US); domestic
Chinese chips are not. See policies/rules.yaml for the criteria in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.core.policy_state import PolicyState

UNCONTROLLED, NOTIFIED, CONTROLLED = 0, 1, 2
TIERS = ("open", "capped", "restricted", "embargoed")
OPEN, CAPPED, RESTRICTED, EMBARGOED = range(4)
CHIP_EXPORT = ("rule", "licence", "allowed")


@dataclass(frozen=True)
class Thresholds:
    control_tpp: float = 0.0
    control_interconnect: float = 0.0
    density_tpp: float = 0.0
    control_density: float = 0.0
    notify_tpp: float = 0.0
    notify_density: float = 0.0

    @classmethod
    def from_policy(cls, policy: PolicyState) -> Thresholds:
        return cls(**{k: float(policy.get(k)) for k in cls.__dataclass_fields__})


def classify(
    tpp: np.ndarray,
    density: np.ndarray,
    interconnect: np.ndarray,
    subject: np.ndarray,
    th: Thresholds,
) -> np.ndarray:
    """Per chip: UNCONTROLLED, NOTIFIED (3A090.b) or CONTROLLED (3A090.a)."""
    controlled = np.zeros(tpp.shape, bool)
    if th.control_tpp > 0:
        by_tpp = tpp >= th.control_tpp
        if th.control_interconnect > 0:
            by_tpp &= interconnect >= th.control_interconnect
        controlled |= by_tpp
    if th.control_density > 0:
        controlled |= (tpp >= th.density_tpp) & (density >= th.control_density)
    notified = np.zeros(tpp.shape, bool)
    if th.notify_tpp > 0:
        notified = ~controlled & (tpp >= th.notify_tpp) & (density >= th.notify_density)
    out = np.where(controlled, CONTROLLED, np.where(notified, NOTIFIED, UNCONTROLLED))
    return np.where(subject, out, UNCONTROLLED).astype(np.int8)


def classify_one(tpp: float, density: float, interconnect: float, th: Thresholds) -> int:
    """classify for one chip subject to the rules, in Python floats: a vendor designing a
    variant tries a handful of candidates one at a time, where classify's dozen numpy calls on
    one-element arrays cost ~15 us each; the same comparisons give the same class."""
    controlled = False
    if th.control_tpp > 0:
        controlled = tpp >= th.control_tpp and (
            th.control_interconnect <= 0 or interconnect >= th.control_interconnect
        )
    if th.control_density > 0:
        controlled = controlled or (tpp >= th.density_tpp and density >= th.control_density)
    if controlled:
        return CONTROLLED
    if th.notify_tpp > 0 and tpp >= th.notify_tpp and density >= th.notify_density:
        return NOTIFIED
    return UNCONTROLLED


def access(
    chip_class: np.ndarray,
    subject: np.ndarray,
    chip_export: np.ndarray,
    tier: np.ndarray,
    listed: np.ndarray,
    licence_approval: float,
    notify_approval: float,
) -> np.ndarray:
    """Share of a purchase that may legally go ahead, for each buyer row and chip column.

    chip_class, subject, chip_export: per chip (chip_export indexes CHIP_EXPORT).
    tier, listed: per buyer (destination tier, end user on the entity list).
    Capped destinations get 1 here; their quantity cap is applied by the market.
    """
    cls = chip_class[None, :]
    export = chip_export[None, :]
    t = tier[:, None]
    restricted_share = np.where(
        cls == CONTROLLED, licence_approval, np.where(cls == NOTIFIED, notify_approval, 1.0)
    )
    restricted_share = np.where(
        export == 1, np.minimum(restricted_share, licence_approval), restricted_share
    )
    restricted_share = np.where(export == 2, 1.0, restricted_share)
    share = np.where(t == RESTRICTED, restricted_share, 1.0)
    share = np.where(t == EMBARGOED, 0.0, share)
    share = np.where(listed[:, None], 0.0, share)
    return np.where(subject[None, :], share, 1.0)


def design_compliant(
    tflops: float, interconnect: float, die_area: float, th: Thresholds, margin: float
) -> tuple[float, float]:
    """The strongest (TFLOPS, interconnect) a vendor can ship from a parent die and stay
    uncontrolled and un-notified: cut the chip-to-chip link if the rule turns on it (A800, H800),
    else cut throughput just under the binding TPP line (H20)."""

    def clean(tf: float, ic: float) -> bool:
        tpp = tf * 16.0
        return classify_one(tpp, tpp / die_area, ic, th) == UNCONTROLLED

    if clean(tflops, interconnect):
        return tflops, interconnect
    if th.control_interconnect > 0:
        ic = min(interconnect, th.control_interconnect * margin)
        if clean(tflops, ic):
            return tflops, ic
    tpp = tflops * 16.0
    lines = [
        th.control_tpp,
        th.density_tpp,
        th.control_density * die_area,
        th.notify_tpp,
        th.notify_density * die_area,
    ]
    candidates = sorted({v * margin for v in lines if 0 < v * margin < tpp}, reverse=True)
    for cap in candidates:
        if clean(cap / 16.0, interconnect):
            return cap / 16.0, interconnect
    smallest = min([c for c in candidates] or [tpp]) * margin
    return smallest / 16.0, interconnect
