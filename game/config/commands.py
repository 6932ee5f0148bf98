"""Lever changes as commands, and the check of a command against the lever spec.

`PolicyChange` is the only way a lever moves: scenario schedules, bot strategies, the player and
the classroom log all issue them, so a run is its seed plus its list of commands. That is what
makes replay, save files, projections and undo cheap and exact.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from game.config.levers import PolicySpec, Value
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


GOVERNMENT_OWNERS = ("us", "china", "transit")


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
    out: list[tuple[str, str]] = []
    governments = [g.id for g in world.governments]
    vendors = [v.id for v in world.vendors]
    labs = [lab.id for lab in world.labs]
    if lv.owner in GOVERNMENT_OWNERS:
        if change.actor != lv.owner:
            out.append(
                (
                    "actor",
                    f"'{change.lever}' is a lever of the {lv.owner} government, "
                    f"not of '{change.actor}'",
                )
            )
    else:
        actors = vendors if lv.owner == "vendor" else labs
        if change.actor not in actors and change.actor not in governments:
            out.append(
                (
                    "actor",
                    f"'{change.lever}' is set by a {lv.owner}; expected one of: "
                    f"{', '.join(actors)}",
                )
            )
    targets: dict[str, list[str]] = {
        "country": [c.id for c in world.countries],
        "lab": labs,
        "chip": chip_ids if chip_ids is not None else [c.id for c in world.chips],
        "vendor": vendors,
    }
    if lv.target == "none":
        if change.target is not None:
            out.append(("target", f"'{change.lever}' takes no target, got '{change.target}'"))
    elif change.target is None:
        out.append(("target", f"'{change.lever}' needs a target: a {lv.target} id"))
    elif change.target not in targets[lv.target]:
        options = targets[lv.target]
        out.append(
            (
                "target",
                f"unknown {lv.target} '{change.target}'{_suggest(change.target, options)}; "
                f"expected one of: {', '.join(options)}",
            )
        )
    elif (
        lv.owner in ("vendor", "lab")
        and lv.target in ("vendor", "lab")
        and change.actor not in governments
        and change.actor != change.target
    ):
        out.append(
            (
                "target",
                f"a {lv.owner} sets '{change.lever}' only for itself "
                f"('{change.actor}'), not for '{change.target}'",
            )
        )
    elif lv.target == "country" and (own := world.own_countries(lv.owner)):
        if change.target not in own:
            out.append(
                (
                    "target",
                    f"'{change.lever}' is set by {lv.owner} for its own countries "
                    f"({', '.join(own)}), not for '{change.target}'",
                )
            )
    elif lv.owner == "vendor" and lv.target == "chip":
        maker = next((c.vendor for c in world.chips if c.id == change.target), change.actor)
        if maker != change.actor:
            out.append(("target", f"'{change.target}' is made by {maker}, not by '{change.actor}'"))
    v = change.value
    if lv.kind == "bool":
        if not isinstance(v, bool):
            out.append(("value", f"expected true or false for '{change.lever}', got {v!r}"))
    elif lv.kind == "number":
        assert lv.range is not None
        if isinstance(v, bool) or not isinstance(v, int | float):
            out.append(("value", f"expected a number ({lv.unit}) for '{change.lever}', got {v!r}"))
        elif not lv.range[0] <= v <= lv.range[1]:
            out.append(
                (
                    "value",
                    f"expected a value in [{lv.describe_range()}] ({lv.unit}) "
                    f"for '{change.lever}', got {v}",
                )
            )
    else:
        choices = list(spec.rules) if lv.choices == "rule_versions" else list(lv.choices or [])
        if not isinstance(v, str) or v not in choices:
            out.append(
                ("value", f"expected one of {', '.join(choices)} for '{change.lever}', got {v!r}")
            )
    return out


