"""The value of every lever now: what the rule engine, the market and the agents read."""

from __future__ import annotations

from typing import Any

from game.config.commands import PolicyChange
from game.config.levers import PolicySpec, Value

_UNSET = object()  # get(): no value set for the lever (or target)
_NO_TARGETS: dict[str, Value] = {}  # get(): a lever no target has a value for (never written)


class PolicyState:
    """The value of every lever now. Plain data (JSON-able), so saves and forks copy it exactly."""

    def __init__(
        self, spec: PolicySpec, pinned: frozenset[tuple[str, str | None]] = frozenset()
    ) -> None:
        self.spec = spec
        self.pinned = pinned  # levers fixed for the run (--set): rule versions leave them be
        self.global_values: dict[str, Value] = {}
        self.by_target: dict[str, dict[str, Value]] = {}
        # Bumped by every change through set() and load_plain(): the market view keeps what it
        # derives from the levers (the rule engine's arrays) until the stamp moves.
        self.version = 0

    def get(self, lever: str, target: str | None = None) -> Any:
        # Read some thirty times a month: one dict lookup where a value is set, no empty dict
        # made where a lever has no targets.
        if target is None:
            value = self.global_values.get(lever, _UNSET)
        else:
            value = self.by_target.get(lever, _NO_TARGETS).get(target, _UNSET)
        if value is _UNSET:
            return self.spec.levers[lever].default
        return value

    def stamp(self) -> tuple[int, int]:
        """What a cache of anything read from the levers is keyed on: it changes whenever a
        lever may have moved. set() and load_plain() bump `version`; the number of targets set
        also sees a target added by writing `by_target` directly (the model seeds labs' risk
        appetite and vendors' variant policy that way while it is built). Overwriting an
        existing target directly is not seen: change levers through set()."""
        return self.version, sum(map(len, self.by_target.values()))

    def targets(self, lever: str) -> dict[str, Value]:
        return dict(self.by_target.get(lever, {}))

    def set(self, change: PolicyChange) -> list[PolicyChange]:
        """Store a checked change; a rule version expands into the lever settings it bundles.
        Returns the elementary changes that took effect."""
        self.version += 1
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
        self.version += 1
        self.global_values = dict(d["global"])
        self.by_target = {k: dict(v) for k, v in d["by_target"].items()}
