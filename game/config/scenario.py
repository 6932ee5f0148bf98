"""Policies and scenarios (policies/*.yaml): the lever spec, export-control rule versions and
scenarios with their dated schedules, loaded and checked into typed objects.

A scenario names the world, overrides parameters, sets levers before the start and schedules
dated lever changes. `extends:` builds on another scenario: its parameters and levers are merged,
and its schedule replaces the parent's entries for every (actor, lever, target) it schedules.
"""

from __future__ import annotations

import difflib
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from game.config.commands import ACTOR_KINDS, PolicyChange, check_change
from game.config.dates import format_month, parse_month, year_of
from game.config.errors import InputError, Problem
from game.config.levers import SPEC_FILES, PolicySpec, default_policy_spec
from game.config.paths import POLICY_DIR
from game.config.validation import Strict, validate
from game.config.world import Month, Text, WorldData, default_world_data
from game.config.yamlfile import YamlDoc, parse_yaml, read_yaml, shown_path

MAX_MONTHS = 1200
# Most scenarios one may stack with `extends:` (the shipped ones stack 2).
MAX_EXTENDS = 16
# The months a scenario may start in: the world data (assets/data) describes the stocks, labs
# and vendors of October 2022, so an earlier start would show that world under wrong dates; the
# chip catalogue's releases run to 2028, and a start after 2030 would be far beyond the data.
FIRST_START = parse_month("2022-10")
LAST_START = parse_month("2030-12")
# A yearly budget growth factor outside (0, MAX_BUDGET_GROWTH] is a typo, not a scenario.
MAX_BUDGET_GROWTH = 10.0

Value = bool | int | float | str


# ----------------------------------------------------------------------------- scenario files
class InitialLever(Strict):
    actor: Text
    lever: Text
    value: Value
    target: str | None = None


class ScheduleEntry(Strict):
    date: Month
    actor: Text
    lever: Text
    value: Value
    target: str | None = None
    news: str | None = None


class ScenarioFile(Strict):
    name: Text
    description: Text
    extends: str | None = None
    world: Literal["default"] = "default"
    start: Month | None = None
    end: Month | None = None
    parameters: dict[str, float] = {}
    levers: list[InitialLever] = []
    bots: dict[str, Literal["none", "reactive", "anticipating"]] = {}
    schedule: list[ScheduleEntry] = []
    # bloc -> {calendar year: yearly growth factor of its labs' budgets}; years not listed
    # follow the default curve (parameters budget_growth_*)
    budget_growth: dict[str, dict[int, float]] = {}


@dataclass(frozen=True)
class ScheduledChange:
    month: int
    change: PolicyChange
    news: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A scenario ready to run: everything resolved, merged and checked."""

    name: str
    description: str
    start: int
    end: int
    parameters: dict[str, float] = field(default_factory=dict)
    initial: tuple[PolicyChange, ...] = ()
    schedule: tuple[ScheduledChange, ...] = ()
    bots: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    pinned: frozenset[tuple[str, str | None]] = frozenset()  # levers fixed by --set
    # bloc -> {calendar year: yearly budget growth factor}, set by the scenario
    budget_growth: dict[str, dict[int, float]] = field(default_factory=dict)

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    def to_plain(self) -> dict[str, Any]:
        """JSON-able form, for saves: enough to rebuild exactly this scenario."""
        return {
            "name": self.name,
            "description": self.description,
            "start": format_month(self.start),
            "end": format_month(self.end),
            "parameters": dict(self.parameters),
            "initial": [c.to_plain() for c in self.initial],
            "schedule": [
                {"date": format_month(s.month), "news": s.news, **s.change.to_plain()}
                for s in self.schedule
            ],
            "bots": dict(self.bots),
            "files": list(self.files),
            "pinned": sorted([list(p) for p in self.pinned], key=str),
            "budget_growth": {
                bloc: {str(y): g for y, g in path.items()}
                for bloc, path in self.budget_growth.items()
            },
        }

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Scenario:
        """The scenario `to_plain` wrote. A projection fan restores 32 futures from one
        snapshot, so the scenarios rebuilt are kept, by the pickle of their plain data (which
        tells every value, its type and the order of every key: the same bytes, the same
        scenario); a Scenario is never modified once built, so sharing it is safe."""
        if cls is not Scenario:
            return cls._from_plain(d)
        try:
            key = pickle.dumps(d, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return cls._from_plain(d)
        kept = _FROM_PLAIN.get(key)
        if kept is None:
            kept = cls._from_plain(d)
            if len(_FROM_PLAIN) >= _FROM_PLAIN_MAX:
                _FROM_PLAIN.clear()
            _FROM_PLAIN[key] = kept
        return kept

    @classmethod
    def _from_plain(cls, d: dict[str, Any]) -> Scenario:
        """from_plain, built anew."""
        return cls(
            name=d["name"],
            description=d["description"],
            start=parse_month(d["start"]),
            end=parse_month(d["end"]),
            parameters=dict(d["parameters"]),
            initial=tuple(PolicyChange.from_plain(c) for c in d["initial"]),
            schedule=tuple(
                ScheduledChange(parse_month(s["date"]), PolicyChange.from_plain(s), s.get("news"))
                for s in d["schedule"]
            ),
            bots=dict(d["bots"]),
            files=tuple(d["files"]),
            pinned=frozenset((p[0], p[1]) for p in d.get("pinned", [])),
            budget_growth={
                bloc: {int(y): float(g) for y, g in path.items()}
                for bloc, path in d.get("budget_growth", {}).items()
            },
        )


# Scenarios rebuilt by Scenario.from_plain, by the pickle of their plain data: a few at a time
# (the snapshots a game or a projection restores from); emptied when full.
_FROM_PLAIN: dict[bytes, Scenario] = {}
_FROM_PLAIN_MAX = 32


def scenario_names(policy_dir: str | Path = POLICY_DIR) -> list[str]:
    return sorted(p.stem for p in Path(policy_dir).glob("*.yaml") if p.name not in SPEC_FILES)


def scenario_path(name_or_path: str, policy_dir: str | Path = POLICY_DIR) -> Path:
    """A scenario name ('historical') or a path to a YAML file -> the file's path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.parent != Path("."):
        return p
    names = scenario_names(policy_dir)
    if (
        name_or_path in SPEC_FILES
        or name_or_path + ".yaml" in SPEC_FILES
        or name_or_path not in names
    ):
        near = difflib.get_close_matches(name_or_path, names, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise InputError(
            Problem(
                f"unknown scenario '{name_or_path}'{hint}; "
                f"expected one of: {', '.join(names)} or a path to a .yaml file"
            )
        )
    return Path(policy_dir) / f"{name_or_path}.yaml"


def _check_parameters(
    doc: YamlDoc, params: dict[str, Any], world: WorldData, prefix: tuple[Any, ...]
) -> list[Problem]:
    out = []
    for key, value in params.items():
        spec = world.parameters.get(key)
        if spec is None:
            near = difflib.get_close_matches(key, list(world.parameters), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            out.append(
                doc.problem(
                    prefix + (key,), f"unknown parameter{hint}; see assets/data/parameters.yaml"
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            out.append(doc.problem(prefix + (key,), f"expected a number, got {value!r}"))
        elif not spec.range[0] <= value <= spec.range[1]:
            out.append(
                doc.problem(
                    prefix + (key,),
                    f"expected a value in [{spec.range[0]}, {spec.range[1]}] ({spec.unit}), "
                    f"got {value}",
                )
            )
    return out


def _check_budget_growth(
    doc: YamlDoc, paths: dict[str, dict[int, float]], world: WorldData, years: range | None
) -> list[Problem]:
    """Every bloc known, every year within the scenario, every factor a plausible number."""
    out = []
    blocs = [b.id for b in world.blocs]
    for bloc, path in paths.items():
        if bloc not in blocs:
            near = difflib.get_close_matches(bloc, blocs, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            out.append(
                doc.problem(
                    ("budget_growth", bloc),
                    f"unknown bloc{hint}; expected one of: {', '.join(blocs)}",
                )
            )
        for year, growth in path.items():
            key = ("budget_growth", bloc, year)
            if years is not None and year not in years:
                out.append(
                    doc.problem(key, f"expected a year from {years[0]} to {years[-1]}, got {year}")
                )
            if not 0.0 < growth <= MAX_BUDGET_GROWTH:
                out.append(
                    doc.problem(
                        key,
                        "expected a yearly growth factor of the budgets (x per year) above 0 "
                        f"and at most {MAX_BUDGET_GROWTH:g}, got {growth}",
                    )
                )
    return out


# Scenarios read with the default world and lever spec, by file and the state of every file
# they may extend: a sweep or a projection builds hundreds of models from one scenario, and
# parsing its YAML again each time cost about as much as running half of the model.
_LOADED: dict[tuple[str, str], tuple[tuple[tuple[str, int, int], ...], Scenario]] = {}


def _stamps(path: Path, policy_dir: str | Path) -> tuple[tuple[str, int, int], ...]:
    """(file, mtime, size) of the scenario file and every scenario it may extend."""
    out = []
    for f in (path, *sorted(Path(policy_dir).glob("*.yaml"))):
        try:
            st = f.stat()
        except OSError:
            return ()
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


def load_scenario(
    name_or_path: str = "historical",
    *,
    policy_dir: str | Path = POLICY_DIR,
    world: WorldData | None = None,
    spec: PolicySpec | None = None,
    _chain: tuple[tuple[str, str], ...] = (),
) -> Scenario:
    """Load, merge (extends) and check a scenario; raise InputError listing every problem.
    With the default world and spec the result is kept until one of its files changes
    (a Scenario is never modified once built)."""
    world = world or default_world_data()
    spec = spec or default_policy_spec()
    defaults = world is default_world_data() and spec is default_policy_spec() and not _chain
    path = scenario_path(name_or_path, policy_dir)
    key = (str(Path(path).resolve()), str(policy_dir))
    stamps = _stamps(Path(path), policy_dir) if defaults else ()
    if stamps and key in _LOADED and _LOADED[key][0] == stamps:
        return _LOADED[key][1]
    doc = read_yaml(path, shown_path(path))
    scenario = _build(doc, world, spec, policy_dir, _chain, key[0])
    if stamps:
        _LOADED[key] = (stamps, scenario)
    return scenario


def parse_scenario_text(
    text: str,
    shown: str = "<scenario>",
    *,
    world: WorldData | None = None,
    spec: PolicySpec | None = None,
) -> Scenario:
    """A scenario from YAML text (the game's editor, tests)."""
    return _build(
        parse_yaml(text, shown),
        world or default_world_data(),
        spec or default_policy_spec(),
        POLICY_DIR,
        (),
    )


def _build(
    doc: YamlDoc,
    world: WorldData,
    spec: PolicySpec,
    policy_dir: str | Path,
    chain: tuple[tuple[str, str], ...],
    own_file: str | None = None,
) -> Scenario:
    """`chain`: (name, resolved file) of the scenarios that extend this one, to find loops by
    name or by path."""
    sf = validate(doc, ScenarioFile)
    problems: list[Problem] = []
    parent: Scenario | None = None
    if sf.extends:
        here = chain + ((sf.name, own_file or ""),)
        try:
            parent_file = str(scenario_path(sf.extends, policy_dir).resolve())
        except InputError:
            parent_file = ""  # an unknown name: load_scenario below says so
        names = [n for n, _ in here]
        files = [f for _, f in here if f]
        if sf.extends in names or (parent_file and parent_file in files):
            raise InputError(
                doc.problem(
                    ("extends",),
                    "scenarios extend each other in a loop: "
                    + " -> ".join([*names, sf.extends]),
                )
            )
        if len(here) >= MAX_EXTENDS:
            raise InputError(
                doc.problem(
                    ("extends",),
                    f"more than {MAX_EXTENDS} scenarios extend one another; expected a "
                    "shorter chain",
                )
            )
        try:
            parent = load_scenario(
                sf.extends, policy_dir=policy_dir, world=world, spec=spec, _chain=here
            )
        except InputError as exc:
            first = exc.problems[0]
            if first.file is None:  # unknown scenario name: point at the extends line
                raise InputError(doc.problem(("extends",), first.message)) from None
            raise
    problems += _check_parameters(doc, sf.parameters, world, ("parameters",))
    for gov, _ in sf.bots.items():
        if gov not in [g.id for g in world.governments]:
            problems.append(
                doc.problem(
                    ("bots", gov),
                    "unknown government; expected one of: "
                    + ", ".join(g.id for g in world.governments),
                )
            )
    initial = []
    for i, lv in enumerate(sf.levers):
        change = PolicyChange(lv.actor, lv.lever, lv.value, lv.target)
        problems += [
            doc.problem(("levers", i, key), msg) for key, msg in check_change(change, spec, world)
        ]
        initial.append(change)
    start = parse_month(sf.start) if sf.start else (parent.start if parent else None)
    end = parse_month(sf.end) if sf.end else (parent.end if parent else None)
    if start is None:
        problems.append(
            doc.problem(("start",), "missing required key (or extend a scenario that has it)")
        )
    if end is None:
        problems.append(
            doc.problem(("end",), "missing required key (or extend a scenario that has it)")
        )
    if sf.start and start is not None and not FIRST_START <= start <= LAST_START:
        problems.append(
            doc.problem(
                ("start",),
                f"expected a month from {format_month(FIRST_START)} to "
                f"{format_month(LAST_START)} (the world data describes October 2022), "
                f"got {format_month(start)}",
            )
        )
        start = None  # an end or a date checked against it would only repeat this
    if start is not None and end is not None and not 0 <= end - start < MAX_MONTHS:
        problems.append(
            doc.problem(
                ("end",),
                f"expected a month after start ({format_month(start)}) "
                f"and within {MAX_MONTHS} months of it, got {format_month(end)}",
            )
        )
    years = (
        range(year_of(start), year_of(end) + 1) if start is not None and end is not None else None
    )
    problems += _check_budget_growth(doc, sf.budget_growth, world, years)
    own: list[ScheduledChange] = []
    for i, entry in enumerate(sf.schedule):
        change = PolicyChange(entry.actor, entry.lever, entry.value, entry.target)
        problems += [
            doc.problem(("schedule", i, key), msg) for key, msg in check_change(change, spec, world)
        ]
        month = parse_month(entry.date)
        if start is not None and end is not None and not start <= month <= end:
            problems.append(
                doc.problem(
                    ("schedule", i, "date"),
                    f"expected a month from {format_month(start)} to {format_month(end)}, "
                    f"got {entry.date}",
                )
            )
        own.append(ScheduledChange(month, change, entry.news))
    if problems:
        raise InputError(problems)
    assert start is not None and end is not None

    params = dict(parent.parameters) if parent else {}
    params.update(sf.parameters)
    bots = dict(parent.bots) if parent else {}
    bots.update(sf.bots)
    init = (parent.initial if parent else ()) + tuple(initial)
    replaced = {s.change.key for s in own}
    # A parent's entries after this file's end never apply here; kept, they would make the
    # scenario one that no file could state (a save of it would not load back).
    inherited = tuple(
        s
        for s in (parent.schedule if parent else ())
        if s.change.key not in replaced and s.month <= end
    )
    # Stable sort: within a month, parent entries first, then this file's, each in file order.
    schedule = tuple(sorted(inherited + tuple(own), key=lambda s: s.month))
    budget_growth = {
        bloc: dict(path) for bloc, path in (parent.budget_growth if parent else {}).items()
    }
    for bloc, path in sf.budget_growth.items():
        budget_growth.setdefault(bloc, {}).update(path)
    files = (parent.files if parent else ()) + (doc.path,)
    return Scenario(
        name=sf.name,
        description=sf.description,
        start=start,
        end=end,
        parameters=params,
        initial=init,
        schedule=schedule,
        bots=bots,
        files=files,
        budget_growth=budget_growth,
    )


# ----------------------------------------------------------------------------- --set overrides
def parse_set_value(text: str) -> Any:
    """'0.2' -> 0.2, 'true' -> True, 'oct2023' -> 'oct2023' (YAML scalar rules, safely)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if isinstance(value, dict | list) or value is None else value


def _set_where(item: str | None, key: str, value: Any) -> str:
    """Where a problem of one `--set` item is: the item as given (a dict's as key=value)."""
    return f"--set {item if item is not None else f'{key}={value}'}"


def with_overrides(
    scenario: Scenario,
    sets: list[str] | dict[str, Any],
    *,
    world: WorldData | None = None,
    spec: PolicySpec | None = None,
) -> Scenario:
    """Apply `--set key=value` items (or a {key: value} dict): a parameter name, or a lever
    (`lever=value`, `lever.target=value`), set before the first month. All problems are
    reported together."""
    world = world or default_world_data()
    spec = spec or default_policy_spec()
    params = dict(scenario.parameters)
    initial = list(scenario.initial)
    pinned: set[tuple[str, str | None]] = set()
    problems: list[Problem] = []
    # (the item as given, or None for a dict's: its text is made only for a problem, as a
    # projection's 32 futures each set some ninety parameters), key, value
    items: list[tuple[str | None, str, Any]] = []
    if isinstance(sets, dict):
        items = [(None, str(k), v) for k, v in sets.items()]
    else:
        for item in sets:
            if "=" not in item:
                problems.append(Problem("expected key=value", key=f"--set {item}"))
                continue
            key, raw = (s.strip() for s in item.split("=", 1))
            items.append((item, key, parse_set_value(raw)))
    for item, key, value in items:
        p = world.parameters.get(key)
        if p is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(
                    Problem(
                        f"expected a number ({p.unit}), got {str(value)!r}",
                        key=_set_where(item, key, value),
                    )
                )
            elif not p.range[0] <= value <= p.range[1]:
                problems.append(
                    Problem(
                        f"expected a value in [{p.range[0]}, {p.range[1]}] ({p.unit}), got {value}",
                        key=_set_where(item, key, value),
                    )
                )
            else:
                params[key] = value
            continue
        lever, _, target = key.partition(".")
        if lever in spec.levers:
            lv = spec.levers[lever]
            actor = lv.owner if lv.owner not in ACTOR_KINDS else (target or lv.owner)
            change = PolicyChange(actor, lever, value, target or None)
            errs = check_change(change, spec, world)
            problems += [Problem(msg, key=_set_where(item, key, value)) for _, msg in errs]
            if not errs:
                initial.append(change)
                pinned.add((lever, target or None))
            continue
        names = list(world.parameters) + list(spec.levers)
        near = difflib.get_close_matches(key, names, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        problems.append(
            Problem(
                f"unknown parameter or lever '{key}'{hint}; "
                "see `python main.py levers` and assets/data/parameters.yaml",
                key=_set_where(item, key, value),
            )
        )
    if problems:
        raise InputError(problems)
    # A lever set here holds for the whole run: the schedule's own changes to it are dropped
    # (a rule version that bundles it still applies the rest of its settings).
    schedule = tuple(
        s for s in scenario.schedule if (s.change.lever, s.change.target) not in pinned
    )
    return replace(
        scenario,
        parameters=params,
        initial=tuple(initial),
        schedule=schedule,
        pinned=scenario.pinned | frozenset(pinned),
    )
