"""Lever changes as commands, and the check of a command against the lever spec.

`PolicyChange` is the only way a lever moves: scenario schedules, bot strategies, the player and
the classroom log all issue them, so a run is its seed plus its list of commands. That is what
makes replay, save files, projections and undo cheap and exact.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from game.config.levers import LeverSpec, PolicySpec, Value
from game.config.world import WorldData


@dataclass(frozen=True)
class PolicyChange:
    """A command: `actor` sets `lever` (on `target`, if the lever takes one) to `value`."""

    actor: str
    lever: str
    value: Value
    target: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.actor, self.lever, self.target)

    def to_plain(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "lever": self.lever,
            "value": self.value,
            "target": self.target,
        }

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> PolicyChange:
        return cls(d["actor"], d["lever"], d["value"], d.get("target"))

    def __str__(self) -> str:
        on = f"[{self.target}]" if self.target else ""
        return f"{self.actor}: {self.lever}{on} = {self.value}"


def _suggest(word: str, options: list[str]) -> str:
    near = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


ACTOR_KINDS = ("vendor", "lab")  # lever owners that are a kind of actor, not one government


def check_change(
    change: PolicyChange, spec: PolicySpec, world: WorldData, chip_ids: list[str] | None = None
) -> list[tuple[str, str]]:
    """Every reason the lever spec rejects this change, as (key, message) pairs."""
    lv = spec.levers.get(change.lever)
    if lv is None:
        names = list(spec.levers)
        return [
            (
                "lever",
                f"unknown lever '{change.lever}'{_suggest(change.lever, names)}; "
                f"expected one of: {', '.join(names)}",
            )
        ]
    return (
        _check_actor(change, lv, world)
        + _check_target(change, lv, world, chip_ids)
        + _check_value(change, lv, spec)
    )


def _check_actor(change: PolicyChange, lv: LeverSpec, world: WorldData) -> list[tuple[str, str]]:
    """A government's lever is its own; a vendor's or lab's lever is set by one of those (or
    by a government acting on it)."""
    governments = [g.id for g in world.governments]
    if lv.owner not in ACTOR_KINDS:
        if change.actor != lv.owner:
            return [
                (
                    "actor",
                    f"'{change.lever}' is a lever of the {lv.owner} government, "
                    f"not of '{change.actor}'",
                )
            ]
        return []
    actors = [v.id for v in world.vendors] if lv.owner == "vendor" else [x.id for x in world.labs]
    if change.actor not in actors and change.actor not in governments:
        return [
            (
                "actor",
                f"'{change.lever}' is set by a {lv.owner}; expected one of: {', '.join(actors)}",
            )
        ]
    return []


def variant_id(parent: str, n: int) -> str:
    """The id a vendor gives the n-th compliant variant it designs (agents/vendor.py), from
    the chip it derates: 'MI300X-C1'. Scenario files may name one before it exists, as the
    record does (the April 2025 licence requirement for AMD's MI308): the rule holds for it
    from the month it is designed, and never applies in a world where it is not."""
    return f"{parent}-C{n}"


def designed_parent(chip_id: str) -> str | None:
    """The parent a designed variant's id names ('MI300X-C1' -> 'MI300X'), or None."""
    parent, sep, n = chip_id.rpartition("-C")
    return parent if sep and n.isdigit() and int(n) >= 1 and n[0] != "0" else None


def _check_target(
    change: PolicyChange, lv: LeverSpec, world: WorldData, chip_ids: list[str] | None
) -> list[tuple[str, str]]:
    """The target exists, is of the lever's kind, and is one the actor may set it for."""
    governments = [g.id for g in world.governments]
    targets: dict[str, list[str]] = {
        "country": [c.id for c in world.countries],
        "lab": [x.id for x in world.labs],
        "chip": chip_ids if chip_ids is not None else [c.id for c in world.chips],
        "vendor": [v.id for v in world.vendors],
    }
    if lv.target == "none":
        if change.target is not None:
            return [("target", f"'{change.lever}' takes no target, got '{change.target}'")]
        return []
    if change.target is None:
        return [("target", f"'{change.lever}' needs a target: a {lv.target} id")]
    designed = lv.target == "chip" and designed_parent(change.target) in targets["chip"]
    if change.target not in targets[lv.target] and not designed:
        options = targets[lv.target]
        return [
            (
                "target",
                f"unknown {lv.target} '{change.target}'{_suggest(change.target, options)}; "
                f"expected one of: {', '.join(options)}",
            )
        ]
    if (
        lv.owner in ACTOR_KINDS
        and lv.target in ACTOR_KINDS
        and change.actor not in governments
        and change.actor != change.target
    ):
        return [
            (
                "target",
                f"a {lv.owner} sets '{change.lever}' only for itself "
                f"('{change.actor}'), not for '{change.target}'",
            )
        ]
    if lv.target == "country" and (own := world.own_countries(lv.owner)):
        if change.target not in own:
            return [
                (
                    "target",
                    f"'{change.lever}' is set by {lv.owner} for its own countries "
                    f"({', '.join(own)}), not for '{change.target}'",
                )
            ]
        return []
    if lv.owner == "vendor" and lv.target == "chip":
        maker = next((c.vendor for c in world.chips if c.id == change.target), change.actor)
        if maker != change.actor:
            return [("target", f"'{change.target}' is made by {maker}, not by '{change.actor}'")]
    return []


def _check_value(change: PolicyChange, lv: LeverSpec, spec: PolicySpec) -> list[tuple[str, str]]:
    """The value is of the lever's kind and in its range or choices."""
    v = change.value
    if lv.kind == "bool":
        if not isinstance(v, bool):
            return [("value", f"expected true or false for '{change.lever}', got {v!r}")]
        return []
    if lv.kind == "number":
        assert lv.range is not None
        if isinstance(v, bool) or not isinstance(v, int | float):
            return [("value", f"expected a number ({lv.unit}) for '{change.lever}', got {v!r}")]
        if not lv.range[0] <= v <= lv.range[1]:
            return [
                (
                    "value",
                    f"expected a value in [{lv.describe_range()}] ({lv.unit}) "
                    f"for '{change.lever}', got {v}",
                )
            ]
        return []
    choices = list(spec.rules) if lv.choices == "rule_versions" else list(lv.choices or [])
    if not isinstance(v, str) or v not in choices:
        return [("value", f"expected one of {', '.join(choices)} for '{change.lever}', got {v!r}")]
    return []
