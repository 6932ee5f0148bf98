"""Facilitator events (assets/data/events.yaml): shocks a teacher injects into a game.

An event is data, not code: a customs crackdown multiplies transit states' customs, a fab fire
scales vendors' output, a new rule is a set of lever changes. The running form the model
keeps is `game.core.shocks.Shock`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from game.config.commands import PolicyChange, check_change
from game.config.errors import InputError, Problem
from game.config.levers import PolicySpec, default_policy_spec
from game.config.paths import DATA_DIR
from game.config.validation import Strict, validate
from game.config.world import Text, WorldData, default_world_data
from game.config.yamlfile import read_yaml, shown_path

EVENTS_FILE = DATA_DIR / "events.yaml"


class ChangeSpec(Strict):
    actor: Text
    lever: Text
    value: bool | int | float | str
    target: str | None = None


class EventSpec(Strict):
    id: Text
    name: Text
    headline: Text
    kind: Literal["customs", "capacity", "policy"]
    targets: list[Text] = []
    factor: Annotated[float, Field(gt=0, le=20)] = 1.0
    months: Annotated[int, Field(ge=0, le=120)] = 0
    changes: list[ChangeSpec] = []
    mirrors: Text
    source: Text

    def policy_changes(self) -> list[PolicyChange]:
        return [PolicyChange(c.actor, c.lever, c.value, c.target) for c in self.changes]


class EventsFile(Strict):
    sources: dict[str, Text]
    events: list[EventSpec]


def load_events(
    path: str | Path = EVENTS_FILE,
    world: WorldData | None = None,
    spec: PolicySpec | None = None,
) -> dict[str, EventSpec]:
    """Read and check the events file: targets must exist, changes must be legal lever moves."""
    world = world or default_world_data()
    spec = spec or default_policy_spec()
    doc = read_yaml(path, shown_path(path))
    ef = validate(doc, EventsFile)
    problems: list[Problem] = []
    countries = {c.id for c in world.countries}
    vendors = {v.id for v in world.vendors}
    seen: set[str] = set()
    for i, ev in enumerate(ef.events):
        if ev.id in seen:
            problems.append(doc.problem(("events", i, "id"), f"'{ev.id}' appears twice"))
        seen.add(ev.id)
        if ev.source not in ef.sources:
            problems.append(
                doc.problem(
                    ("events", i, "source"),
                    f"unknown source '{ev.source}'; expected a key of sources",
                )
            )
        known = countries if ev.kind == "customs" else vendors if ev.kind == "capacity" else set()
        if ev.kind == "policy":
            if not ev.changes:
                problems.append(doc.problem(("events", i), "a policy event needs changes"))
            for j, change in enumerate(ev.policy_changes()):
                problems += [
                    doc.problem(("events", i, "changes", j, key), msg)
                    for key, msg in check_change(change, spec, world)
                ]
        else:
            if not ev.targets:
                problems.append(doc.problem(("events", i, "targets"), "expected at least one"))
            if ev.months < 1:
                problems.append(
                    doc.problem(("events", i, "months"), f"a {ev.kind} event lasts 1 month or more")
                )
            for j, t in enumerate(ev.targets):
                if t not in known:
                    what = "country" if ev.kind == "customs" else "vendor"
                    problems.append(
                        doc.problem(
                            ("events", i, "targets", j),
                            f"unknown {what} '{t}'; expected one of: {', '.join(sorted(known))}",
                        )
                    )
    if problems:
        raise InputError(problems)
    return {ev.id: ev for ev in ef.events}


@cache
def default_events() -> dict[str, EventSpec]:
    return load_events()


def event(event_id: str) -> EventSpec:
    """An event by id, or InputError naming the ones there are."""
    events = default_events()
    if event_id not in events:
        raise InputError(
            Problem(
                f"unknown event '{event_id}'; expected one of: {', '.join(events)}",
                key="event",
            )
        )
    return events[event_id]
