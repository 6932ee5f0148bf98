"""Lever changes as commands, and the current value of every lever.

`PolicyChange` is the only way a lever moves: scenario schedules, bot strategies, the player and
the classroom log all issue them, so a run is its seed plus its list of commands. That is what
makes replay, save files, projections and undo cheap and exact.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from game.validation import Strict

if TYPE_CHECKING:
    from game.data import WorldData
    from game.scenario import PolicySpec

Value = bool | int | float | str


class LeverSpec(Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    owner: Literal["us", "china", "transit", "vendor", "lab"]
    kind: Literal["number", "bool", "choice"]
    target: Literal["none", "country", "lab", "chip", "vendor"]
    range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    unit: str | None = None
    choices: list[str] | Literal["rule_versions"] | None = None
    default: Value
    does: str = Field(min_length=1)
    mirrors: str = Field(min_length=1)

    def self_check(self) -> list[tuple[tuple[str, ...], str]]:
        out = []
        if self.kind == "number":
            if self.range is None or self.unit is None:
                out.append((("range",), "a number lever needs a range and a unit"))
            elif isinstance(self.default, bool) or not isinstance(self.default, int | float):
                out.append((("default",), f"expected a number, got {self.default!r}"))
            elif not self.range[0] <= self.default <= self.range[1]:
                out.append(
                    (("default",), f"expected a value in {list(self.range)}, got {self.default}")
                )
        elif self.kind == "choice":
            if self.choices is None:
                out.append((("choices",), "a choice lever needs choices"))
            elif isinstance(self.choices, list) and self.default not in self.choices:
                out.append((("default",), f"expected one of {self.choices}, got {self.default!r}"))
        elif self.kind == "bool" and not isinstance(self.default, bool):
            out.append((("default",), f"expected true or false, got {self.default!r}"))
        return out

    def describe_range(self, rule_ids: list[str] | None = None) -> str:
        if self.kind == "number" and self.range is not None:
            lo, hi = (int(v) if float(v).is_integer() else v for v in self.range)
            return f"{lo} .. {hi}"
        if self.kind == "bool":
            return "true | false"
        choices = rule_ids if self.choices == "rule_versions" else self.choices
        return " | ".join(choices or [])


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


class PolicyState:
    """The value of every lever now. Plain data (JSON-able), so saves and forks copy it exactly."""

    def __init__(
        self, spec: PolicySpec, pinned: frozenset[tuple[str, str | None]] = frozenset()
    ) -> None:
        self.spec = spec
        self.pinned = pinned  # levers fixed for the run (--set): rule versions leave them be
        self.global_values: dict[str, Value] = {}
        self.by_target: dict[str, dict[str, Value]] = {}

    def get(self, lever: str, target: str | None = None) -> Any:
        if target is None:
            if lever in self.global_values:
                return self.global_values[lever]
        else:
            per = self.by_target.get(lever, {})
            if target in per:
                return per[target]
        return self.spec.levers[lever].default

    def targets(self, lever: str) -> dict[str, Value]:
        return dict(self.by_target.get(lever, {}))

    def set(self, change: PolicyChange) -> list[PolicyChange]:
        """Store a checked change; a rule version expands into the lever settings it bundles.
        Returns the elementary changes that took effect."""
        if change.lever == "export_rule":
            rule = self.spec.rules[str(change.value)]
            done = [change]
            self.global_values["export_rule"] = change.value
            for lever, value in rule.levers.items():
                if (lever, None) not in self.pinned:
                    self.global_values[lever] = value
                    done.append(PolicyChange(change.actor, lever, value))
            tiers = self.by_target.setdefault("destination", {})
            wanted = {c: str(t) for c, t in rule.destinations.items()}
            for country in sorted(set(tiers) | set(wanted)):
                if ("destination", country) in self.pinned:
                    continue
                tier = wanted.get(country, "open")
                if tiers.get(country, "open") != tier or country in wanted:
                    done.append(PolicyChange(change.actor, "destination", tier, country))
                if tier == "open":
                    tiers.pop(country, None)
                else:
                    tiers[country] = tier
            return done
        if change.target is None:
            self.global_values[change.lever] = change.value
        else:
            self.by_target.setdefault(change.lever, {})[change.target] = change.value
        return [change]

    def to_plain(self) -> dict[str, Any]:
        return {
            "global": dict(self.global_values),
            "by_target": {k: dict(v) for k, v in self.by_target.items()},
        }

    def load_plain(self, d: dict[str, Any]) -> None:
        self.global_values = dict(d["global"])
        self.by_target = {k: dict(v) for k, v in d["by_target"].items()}
