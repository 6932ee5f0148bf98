"""The roles a team can take (assets/data/roles.yaml): which actor it plays, whose levers it
moves, how it is scored and its goal's numbers. Which actors and levers exist is checked
against the world and the lever spec, so a role never names something the model lacks."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from game.config.errors import InputError, Problem
from game.config.levers import PolicySpec, default_policy_spec
from game.config.paths import DATA_DIR
from game.config.validation import Strict, validate
from game.config.world import Text, WorldData, default_world_data
from game.config.yamlfile import read_yaml, shown_path

ROLES_FILE = DATA_DIR / "roles.yaml"
SCORES = ("controller", "target", "vendor", "lab", "hubs")


class RoleSpec(Strict):
    id: Text
    name: Text
    plays: Text
    actor: Text
    owner: Text
    owner_name: Text
    score: Literal["controller", "target", "vendor", "lab", "hubs"]
    goal: dict[str, float | str] = {}
    objective_text: Text
    source: Text
    vendor_name: str = ""

    @property
    def objective(self) -> str:
        """One sentence shown to the player, with the goal's numbers filled in."""
        return self.objective_text.format(
            **self.goal, plays=self.plays, vendor_name=self.vendor_name
        )

    def number(self, key: str) -> float:
        return float(self.goal[key])


class RolesFile(Strict):
    sources: dict[str, Text]
    roles: list[dict]


def load_roles(
    path: str | Path = ROLES_FILE, world: WorldData | None = None, spec: PolicySpec | None = None
) -> dict[str, RoleSpec]:
    world = world or default_world_data()
    spec = spec or default_policy_spec()
    doc = read_yaml(path, shown_path(path))
    raw = validate(doc, RolesFile)
    names = (
        {v.id: v.name for v in world.vendors}
        | {lab.id: lab.name for lab in world.labs}
        | {g.id: g.name for g in world.governments}
    )
    owners = sorted({lv.owner for lv in spec.levers.values()})
    problems: list[Problem] = []
    roles: dict[str, RoleSpec] = {}
    for i, entry in enumerate(raw.roles):
        entry = dict(entry)
        entry["objective_text"] = entry.pop("objective", None)
        try:
            role = RoleSpec.model_validate(entry)
        except Exception as exc:  # pydantic's message, placed at the role's line
            problems.append(doc.problem(("roles", i), f"expected a role: {exc}".splitlines()[0]))
            continue
        where = ("roles", i)
        if role.id in roles:
            problems.append(doc.problem((*where, "id"), f"duplicate role '{role.id}'"))
        if role.actor not in names:
            problems.append(
                doc.problem(
                    (*where, "actor"),
                    f"unknown actor '{role.actor}'; expected one of: " + ", ".join(names),
                )
            )
        if role.owner not in owners:
            problems.append(
                doc.problem(
                    (*where, "owner"),
                    f"unknown lever owner '{role.owner}'; expected one of: " + ", ".join(owners),
                )
            )
        if role.source not in raw.sources:
            problems.append(doc.problem((*where, "source"), f"unknown source '{role.source}'"))
        vendor = str(role.goal.get("vendor", ""))
        if vendor and vendor not in names:
            problems.append(doc.problem((*where, "goal", "vendor"), f"unknown vendor '{vendor}'"))
        role = role.model_copy(
            update={
                "actor_name": names.get(role.actor, role.actor),
                "vendor_name": names.get(vendor, ""),
            }
        )
        try:
            role.objective  # noqa: B018 - a placeholder the goal lacks is a data error
        except (KeyError, ValueError, IndexError) as exc:
            problems.append(
                doc.problem((*where, "objective"), f"names {exc} that its goal does not give")
            )
        roles[role.id] = role
    if problems:
        raise InputError(problems)
    return roles


@cache
def default_roles() -> dict[str, RoleSpec]:
    return load_roles(ROLES_FILE)
