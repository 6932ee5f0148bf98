"""The roles a team can take (assets/data/roles.yaml): which actor it plays, whose levers it
moves, how it is scored and its goal's numbers. Which actors and levers exist is checked
against the world and the lever spec, so a role never names something the model lacks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

from game.config.errors import InputError, Problem
from game.config.levers import PolicySpec, default_policy_spec
from game.config.paths import DATA_DIR
from game.config.validation import Strict, validate
from game.config.world import Text, WorldData, default_world_data
from game.config.yamlfile import YamlDoc, read_yaml, shown_path

ROLES_FILE = DATA_DIR / "roles.yaml"


class RoleSpec(Strict):
    """A role as roles.yaml writes it; `objective` is a template the goal's numbers fill."""

    id: Text
    name: Text
    plays: Text
    actor: Text
    owner: Text
    owner_name: Text
    score: Literal["controller", "target", "vendor", "lab", "hubs"]
    goal: dict[str, float | str] = {}
    situation: Text  # the briefing: what is going on as the game starts
    watch: Text  # ... and what to keep an eye on
    objective: Text
    source: Text


class RolesFile(Strict):
    sources: dict[str, Text]
    roles: list[RoleSpec]


@dataclass(frozen=True)
class Role:
    """A seat at the table, checked: the actor it plays, the owner of the levers it may move,
    its score, its goal's numbers and its objective in one sentence with them filled in."""

    id: str
    name: str
    plays: str
    actor: str
    owner: str
    owner_name: str
    score: str
    goal: dict[str, float | str]
    objective: str
    source: str
    vendor_name: str  # the name of the goal's vendor, if the goal names one ("" otherwise)
    situation: str = ""
    watch: str = ""
    template: str = ""  # the objective before the goal's numbers fill it (roles.yaml)

    def number(self, key: str) -> float:
        return float(self.goal[key])

    def with_goal(self, numbers: dict[str, float]) -> Role:
        """The role with some of its goal's numbers replaced (a lesson's own goal), its
        objective written with them."""
        if not numbers:
            return self
        goal = {**self.goal, **numbers}
        objective = self.template.format(**goal, plays=self.plays, vendor_name=self.vendor_name)
        return replace(self, goal=goal, objective=objective)


def load_roles(
    path: str | Path = ROLES_FILE, world: WorldData | None = None, spec: PolicySpec | None = None
) -> dict[str, Role]:
    world = world or default_world_data()
    spec = spec or default_policy_spec()
    doc = read_yaml(path, shown_path(path))
    raw = validate(doc, RolesFile)
    names = world.actor_names()
    owners = sorted({lv.owner for lv in spec.levers.values()})
    problems: list[Problem] = []
    roles: dict[str, Role] = {}
    for i, role in enumerate(raw.roles):
        where = ("roles", i)
        problems += _check_role(doc, where, role, names, owners, raw.sources, roles)
        vendor_name = names.get(str(role.goal.get("vendor", "")), "")
        try:
            objective = role.objective.format(
                **role.goal, plays=role.plays, vendor_name=vendor_name
            )
        except (KeyError, ValueError, IndexError) as exc:  # a placeholder the goal lacks
            problems.append(
                doc.problem((*where, "objective"), f"names {exc} that its goal does not give")
            )
            continue
        fields = role.model_dump() | {
            "objective": objective,
            "vendor_name": vendor_name,
            "template": role.objective,
        }
        roles[role.id] = Role(**fields)
    if problems:
        raise InputError(problems)
    return roles


def _check_role(
    doc: YamlDoc,
    where: tuple[str, int],
    role: RoleSpec,
    names: dict[str, str],
    owners: list[str],
    sources: dict[str, str],
    seen: dict[str, Role],
) -> list[Problem]:
    problems = []
    if role.id in seen:
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
    if role.source not in sources:
        problems.append(doc.problem((*where, "source"), f"unknown source '{role.source}'"))
    vendor = str(role.goal.get("vendor", ""))
    if vendor and vendor not in names:
        problems.append(doc.problem((*where, "goal", "vendor"), f"unknown vendor '{vendor}'"))
    return problems


@cache
def default_roles() -> dict[str, Role]:
    return load_roles(ROLES_FILE)
