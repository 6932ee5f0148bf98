"""The lever spec (policies/levers.yaml) and the export-control rule versions
(policies/rules.yaml): what each lever is, who owns it, its range, and the bundles of settings
that each historical rule stands for. Every command is checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from game.config.errors import InputError, Problem
from game.config.paths import POLICY_DIR
from game.config.validation import Strict, validate
from game.config.world import Text, WorldData, default_world_data
from game.config.yamlfile import read_yaml, shown_path

Value = bool | int | float | str
SPEC_FILES = ("levers.yaml", "rules.yaml")


class LeverSpec(Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    owner: Text  # a government id (actors.yaml), or "vendor" or "lab" for any of those
    kind: Literal["number", "bool", "choice"]
    target: Literal["none", "country", "lab", "chip", "vendor"]
    range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    unit: str | None = None
    choices: list[str] | Literal["rule_versions"] | None = None
    default: Value
    does: str = Field(min_length=1)
    mirrors: str = Field(min_length=1)
    says: str = Field(min_length=1)  # what it does in a player's words (tooltips, briefings)

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


class LeversFile(Strict):
    levers: Annotated[list[LeverSpec], Field(min_length=1)]


class RuleVersion(Strict):
    id: Text
    name: Text
    source: Text
    levers: dict[str, float]
    destinations: dict[str, Literal["open", "capped", "restricted", "embargoed"]]


class RulesFile(Strict):
    sources: dict[str, Text]
    rule_versions: Annotated[list[RuleVersion], Field(min_length=1)]


@dataclass(frozen=True)
class PolicySpec:
    """The lever spec and the rule versions, which every command is checked against."""

    levers: dict[str, LeverSpec]
    rules: dict[str, RuleVersion]
    rule_sources: dict[str, str]


def load_policy_spec(
    policy_dir: str | Path = POLICY_DIR, world: WorldData | None = None
) -> PolicySpec:
    policy_dir = Path(policy_dir)
    world = world or default_world_data()
    ldoc = read_yaml(policy_dir / "levers.yaml", shown_path(policy_dir / "levers.yaml"))
    rdoc = read_yaml(policy_dir / "rules.yaml", shown_path(policy_dir / "rules.yaml"))
    problems: list[Problem] = []
    lf = rf = None
    try:
        lf = validate(ldoc, LeversFile)
    except InputError as exc:
        problems += exc.problems
    try:
        rf = validate(rdoc, RulesFile)
    except InputError as exc:
        problems += exc.problems
    if problems or lf is None or rf is None:
        raise InputError(problems)
    levers: dict[str, LeverSpec] = {}
    for i, lv in enumerate(lf.levers):
        if lv.id in levers:
            problems.append(ldoc.problem(("levers", i, "id"), f"duplicate lever '{lv.id}'"))
        levers[lv.id] = lv
        problems += [ldoc.problem(("levers", i) + p[0], p[1]) for p in lv.self_check()]
    owners = [g.id for g in world.governments] + ["vendor", "lab"]
    for i, lv in enumerate(lf.levers):
        if lv.owner not in owners:
            problems.append(
                ldoc.problem(
                    ("levers", i, "owner"),
                    f"unknown owner '{lv.owner}'; expected one of: {', '.join(owners)}",
                )
            )
    controller = world.government_on("controller").id
    countries = [c.id for c in world.countries]
    rules: dict[str, RuleVersion] = {}
    for i, rv in enumerate(rf.rule_versions):
        if rv.id in rules:
            problems.append(
                rdoc.problem(("rule_versions", i, "id"), f"duplicate rule version '{rv.id}'")
            )
        rules[rv.id] = rv
        if rv.source not in rf.sources:
            problems.append(
                rdoc.problem(
                    ("rule_versions", i, "source"),
                    f"unknown source '{rv.source}'; expected one of: " + ", ".join(rf.sources),
                )
            )
        for key, value in rv.levers.items():
            spec = levers.get(key)
            if (
                spec is None
                or spec.kind != "number"
                or spec.target != "none"
                or spec.owner != controller
            ):
                problems.append(
                    rdoc.problem(
                        ("rule_versions", i, "levers", key),
                        f"expected a numeric {controller} lever without target",
                    )
                )
            elif not spec.range[0] <= value <= spec.range[1]:
                problems.append(
                    rdoc.problem(
                        ("rule_versions", i, "levers", key),
                        f"expected a value in [{spec.range[0]}, {spec.range[1]}], got {value}",
                    )
                )
        for key in rv.destinations:
            if key not in countries:
                problems.append(
                    rdoc.problem(
                        ("rule_versions", i, "destinations", key),
                        f"unknown country '{key}'; expected one of: {', '.join(countries)}",
                    )
                )
    if problems:
        raise InputError(problems)
    return PolicySpec(levers=levers, rules=rules, rule_sources=dict(rf.sources))


@cache
def default_policy_spec() -> PolicySpec:
    return load_policy_spec(POLICY_DIR, default_world_data())


