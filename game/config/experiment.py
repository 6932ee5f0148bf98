"""Experiment files (experiments/*.yaml): what a sweep varies and how.

Following EMA Workbench's split, an experiment has *levers* (policy choices, compared as a full
grid: every combination is a policy) and *uncertainties* (world parameters that nobody
chooses, drawn by a design: a grid of values, a Latin hypercube or a Sobol design from SALib),
times *replications* (seeds). The same replication seeds are reused for every policy and every
draw (common random numbers), so differences between policies are not seed noise.

    name: enforcement_vs_smuggling
    description: "One line for the summary"
    scenario: historical            # a scenario name or a path
    months: 48                      # optional: shorter than the scenario's horizon
    levers:                         # keys as in `--set`: a lever, or lever.target
      enforcement: [0.5, 1, 2, 4]
    uncertainties:                  # parameter names from assets/data/parameters.yaml
      smuggling_detection: [0.02, 0.3]      # a range (sampled) ...
      algo_doubling_months: {values: [6, 8, 12]}   # ... or values (a grid)
    # or `uncertainties: all`: every parameter with a range that is not `drawn: false`, over
    # its documented range, but those the scenario or the levers set (lhs or sobol only)
    design: lhs                     # grid | lhs | sobol
    samples: 16                     # lhs: draws; sobol: base samples N (N*(2D+2) draws)
    replications: 5
    seed: 2022
    outcomes:                       # optional: what to measure per run (game/config/outcomes.py)
      - name: china_close_2030
        expression: gap_months      # results columns, column[bloc], numbers, + - * / ( )
        bloc: china                 # the bloc a bare column is read for (default: china)
        window: 2030                # a year or [YYYY-MM, YYYY-MM]; none: the whole run
        aggregate: mean             # mean | last | max | min | sum over the window
        direction: minimize         # minimize | maximize
    search:                         # optional: a robust policy search (`search` command)
      algorithm: eps-nsga2          # epsilon-NSGA-II (platypus)
      nfe: 2000                     # candidate policies to evaluate (the budget)
      population: 20                # at most nfe
      futures: 8                    # sampled futures every candidate is judged in (the same
                                    # futures and seeds for every candidate)
      seed: 1                       # optional: the search's own seed (default: seed above)
      levers:                       # the decision variables: keys as in `--set`
        enforcement: {range: [0.25, 4.0]}
        destination.china: {choices: [restricted, embargoed]}
      robustness:                   # per outcome; default mean
        china_close_2030: {percentile: 90}        # a percentile over the futures
        smuggled: regret                          # max regret ({regret: 90}: a percentile)
        frontier: {satisficing: {threshold: 5}}   # share of futures meeting the threshold
      epsilons: {china_close_2030: 0.5, smuggled: 100, frontier: 0.1}  # one per outcome
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field, model_validator

from game.config.dates import format_month
from game.config.errors import InputError, Problem, short
from game.config.outcomes import NOT_NUMERIC, OutcomeSpec, unknown_columns
from game.config.paths import EXPERIMENT_DIR
from game.config.scenario import load_scenario, with_overrides
from game.config.validation import Strict, validate
from game.config.world import Text, default_world_data
from game.config.yamlfile import YamlDoc, read_yaml, shown_path

Scalar = bool | int | float | str


class Values(Strict):
    values: Annotated[list[Scalar], Field(min_length=1)]


def _uncertainty(value: Any) -> list[float] | Values:
    """A range [low, high] or {values: [...]}, with one message for either shape."""
    expected = "expected a range [low, high] or {values: [v1, v2, ...]}"
    numbers = (int, float)
    if isinstance(value, list):
        if len(value) != 2 or not all(
            isinstance(v, numbers) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(f"{expected}, got {short(repr(value))}")
        return [float(v) for v in value]
    if isinstance(value, dict):
        if set(value) != {"values"} or not isinstance(value["values"], list) or not value["values"]:
            raise ValueError(f"{expected}, got a mapping with keys {sorted(map(str, value))}")
        return Values(values=value["values"])
    raise ValueError(f"{expected}, got {short(repr(value))}")


Uncertainty = Annotated[Any, AfterValidator(_uncertainty)]


def _all_uncertainties(data: Any) -> Any:
    """`uncertainties: all` read as draw_all (expanded by load_experiment): the mapping form
    keeps its own checks and messages."""
    if isinstance(data, dict) and data.get("uncertainties") == "all":
        return {**{k: v for k, v in data.items() if k != "uncertainties"}, "draw_all": True}
    return data


def _plain_name(value: str) -> str:
    """An experiment's name names its folder (sweeps/<name>): one plain file name."""
    if not _NAME.match(value) or len(value) > 100:
        raise ValueError(
            "expected a plain name of letters, digits, '_', '-' and '.' (at most 100, not "
            f"starting with '.'; it names the sweep's folder), got {short(repr(value))}"
        )
    return value


_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


ROBUSTNESS = ("mean", "percentile", "regret", "satisficing")


class Robustness(Strict):
    """How an outcome's values over the futures become one number to optimise."""

    measure: Literal["mean", "percentile", "regret", "satisficing"]
    percentile: float | None = None  # percentile: which; regret: which percentile (None: max)
    threshold: float | None = None  # satisficing: the value to meet

    def label(self) -> str:
        if self.measure == "percentile":
            return f"percentile {self.percentile:g}"
        if self.measure == "regret":
            return "max regret" if self.percentile is None else f"regret p{self.percentile:g}"
        if self.measure == "satisficing":
            return f"share meeting {self.threshold:g}"
        return "mean"


def _robustness(value: Any) -> Robustness:
    expected = (
        "expected mean, regret, {percentile: P}, {regret: P} or {satisficing: {threshold: X}}"
    )

    def number(v: Any, lo: float, hi: float, what: str) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            raise ValueError(f"expected {what}, got {short(repr(v))}")
        return float(v)

    if value in ("mean", "regret"):
        return Robustness(measure=value)
    if isinstance(value, str) and value not in ROBUSTNESS:
        raise ValueError(f"unknown robustness measure {short(repr(value))}; {expected}")
    if isinstance(value, dict) and len(value) == 1:
        (key, v), = value.items()
        if key in ("percentile", "regret"):
            return Robustness(measure=key, percentile=number(v, 0, 100, "a percentile 0 to 100"))
        if key == "satisficing":
            if not isinstance(v, dict) or set(v) != {"threshold"}:
                raise ValueError(f"expected satisficing: {{threshold: X}}, got {short(repr(v))}")
            t = number(v["threshold"], -math.inf, math.inf, "a number")
            return Robustness(measure="satisficing", threshold=t)
        raise ValueError(f"unknown robustness measure {short(repr(key))}; {expected}")
    raise ValueError(f"{expected}, got {short(repr(value))}")


class LeverRange(Strict):
    """A search's decision variable: a numeric range, or a set of choices."""

    range: list[float] | None = None
    choices: list[Scalar] | None = None

    @model_validator(mode="before")
    @classmethod
    def _one(cls, data: Any) -> Any:
        expected = "expected {range: [low, high]} or {choices: [v1, v2, ...]}"
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in (
            "range",
            "choices",
        ):
            raise ValueError(f"{expected}, got {short(repr(data))}")
        v = data.get("range")
        if "range" in data and (
            not isinstance(v, list)
            or len(v) != 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
        ):
            raise ValueError(f"expected range: [low, high] of two numbers, got {short(repr(v))}")
        if "range" in data:
            if not v[0] < v[1]:
                raise ValueError(f"expected range: [low, high] with low < high, got {v}")
            return {"range": [float(x) for x in v]}
        c = data.get("choices")
        if not isinstance(c, list) or not c or len(set(map(repr, c))) != len(c):
            raise ValueError(f"expected choices: a list of distinct values, got {short(repr(c))}")
        return data

    def values(self) -> list[Scalar]:
        """The values the lever is set to when checked: both ends, or every choice."""
        return list(self.range) if self.range is not None else list(self.choices or [])


class SearchSpec(Strict):
    algorithm: Literal["eps-nsga2"] = "eps-nsga2"
    nfe: Annotated[int, Field(ge=1, le=1_000_000)]
    population: Annotated[int, Field(ge=2, le=10_000)] = 20
    futures: Annotated[int, Field(ge=1, le=1000)] = 8
    seed: Annotated[int, Field(ge=0)] | None = None
    levers: Annotated[dict[str, LeverRange], Field(min_length=1)]
    robustness: dict[str, Annotated[Any, AfterValidator(_robustness)]] = {}
    epsilons: dict[str, Annotated[float, Field(gt=0)]] = {}

    def measure(self, outcome: str) -> Robustness:
        return self.robustness.get(outcome) or Robustness(measure="mean")


class ExperimentFile(Strict):
    name: Annotated[str, AfterValidator(_plain_name)]
    description: Text
    scenario: Text = "historical"
    months: Annotated[int, Field(ge=1, le=1200)] | None = None
    levers: dict[str, Annotated[list[Scalar], Field(min_length=1)]] = {}
    uncertainties: dict[str, Uncertainty] = {}
    # `uncertainties: all` in the file: every uncertain parameter (load_experiment expands it)
    draw_all: bool = False
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: Annotated[int, Field(ge=1, le=100_000)] = 8
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1
    seed: Annotated[int, Field(ge=0)] = 2022
    outcomes: list[OutcomeSpec] = []
    search: SearchSpec | None = None

    _all = model_validator(mode="before")(_all_uncertainties)


@dataclass(frozen=True)
class Run:
    """One run of a sweep: a policy, a draw of the uncertainties and a seed."""

    run_id: str
    policy: int
    draw: int
    replication: int
    seed: int
    levers: tuple[tuple[str, Scalar], ...]
    parameters: tuple[tuple[str, float], ...]

    def overrides(self) -> dict[str, Scalar]:
        return {**dict(self.parameters), **dict(self.levers)}


@dataclass(frozen=True)
class Experiment:
    spec: ExperimentFile
    source: str  # the file, for messages and the sweep's record
    text: str  # its YAML, kept with the results

    @property
    def name(self) -> str:
        return self.spec.name

    def digest(self) -> str:
        """Identifies the experiment: resuming into a folder made by another one is refused."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ the design
    def policies(self) -> list[tuple[tuple[str, Scalar], ...]]:
        """Every combination of lever values (the empty policy if no levers)."""
        keys = list(self.spec.levers)
        return [
            tuple(zip(keys, combo, strict=True))
            for combo in itertools.product(*(self.spec.levers[k] for k in keys))
        ]

    def draws(self) -> list[tuple[tuple[str, float], ...]]:
        """The uncertainty draws: grid, Latin hypercube (scipy) or Sobol (SALib's Saltelli)."""
        u = self.spec.uncertainties
        if not u:
            return [()]
        names = list(u)
        if self.spec.design == "grid":
            axes = [spec.values if isinstance(spec, Values) else _grid(spec) for spec in u.values()]
            return [tuple(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
        if self.spec.design == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(
                d=len(names), seed=np.random.default_rng(self.spec.seed)
            ).random(self.spec.samples)
            return [tuple(zip(names, _scale(row, u), strict=True)) for row in unit]
        problem = self.salib_problem()
        from SALib.sample import sobol as sobol_sample

        points = sobol_sample.sample(
            problem, self.spec.samples, calc_second_order=False, seed=self.spec.seed
        )
        return [tuple(zip(names, (float(v) for v in row), strict=True)) for row in points]

    def salib_problem(self) -> dict[str, Any]:
        u = self.spec.uncertainties
        return {
            "num_vars": len(u),
            "names": list(u),
            "bounds": [
                [float(min(s.values)), float(max(s.values))]
                if isinstance(s, Values)
                else [float(s[0]), float(s[1])]
                for s in u.values()
            ],
        }

    def run_count(self) -> int:
        """How many runs the design makes, counted without building them."""
        spec = self.spec
        policies = math.prod(len(v) for v in spec.levers.values())
        u = spec.uncertainties
        if not u:
            draws = 1
        elif spec.design == "grid":
            draws = math.prod(len(s.values) if isinstance(s, Values) else 3 for s in u.values())
        elif spec.design == "lhs":
            draws = spec.samples
        else:  # Saltelli without second order: N * (D + 2)
            draws = spec.samples * (len(u) + 2)
        return policies * draws * spec.replications

    def seeds(self) -> list[int]:
        """Replication seeds from the master seed; the same for every policy and draw."""
        return seeds_for(self.spec.replications, self.spec.seed)

    def runs(self) -> list[Run]:
        seeds = self.seeds()
        out = []
        for p, policy in enumerate(self.policies()):
            for d, draw in enumerate(self.draws()):
                for r, seed in enumerate(seeds):
                    out.append(
                        Run(
                            f"p{p}-d{d}-r{r}",
                            p,
                            d,
                            r,
                            seed,
                            policy,
                            tuple((k, plain_value(v)) for k, v in draw),
                        )
                    )
        return out

    def record(self) -> dict[str, Any]:
        """What goes into the sweep folder's manifest."""
        return {
            "name": self.name,
            "source": self.source,
            "digest": self.digest(),
            "scenario": self.spec.scenario,
            "design": self.spec.design,
            "policies": len(self.policies()),
            "draws": len(self.draws()),
            "replications": self.spec.replications,
            "seed": self.spec.seed,
            "runs": len(self.runs()),
        }


def _grid(bounds: list[float]) -> list[float]:
    """A range on a grid design: low, middle, high."""
    lo, hi = bounds
    return [lo, (lo + hi) / 2, hi]


def _scale(unit: np.ndarray, u: dict[str, Any]) -> list[float]:
    out = []
    for x, spec in zip(unit, u.values(), strict=True):
        if isinstance(spec, Values):  # values on a sampled design: pick one
            out.append(float(spec.values[min(int(x * len(spec.values)), len(spec.values) - 1)]))
        else:
            out.append(float(spec[0] + x * (spec[1] - spec[0])))
    return out


def plain_value(v: Any) -> Any:
    """A numpy scalar (a drawn parameter) as the Python number it holds: jobs are plain data."""
    return v.item() if hasattr(v, "item") else v


# Most sampled futures one `run --samples` command runs: 1,000 default runs take about 4
# minutes on 2 cores and their table is about 400,000 rows (40 MB as CSV); for more, an
# experiment file and `sweep` (which streams to disk and resumes).
MAX_SAMPLES = 1000


def seeds_for(n: int, master: int) -> list[int]:
    """Independent seeds from one master seed (numpy SeedSequence)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(master).spawn(n)]


def drawn_parameters(fixed: Iterable[str] = ()) -> list[str]:
    """The parameters a sampled future draws: every uncertain one (a range, and not marked
    `drawn: false` in parameters.yaml) but those `fixed` (a scenario's own, `--set`)."""
    params = default_world_data().parameters
    skip = set(fixed)
    return [k for k, p in params.items() if p.drawn and p.range[0] < p.range[1] and k not in skip]


# One sampled future: its seed and its drawn parameters ((name, value) pairs; empty: defaults).
SampledFuture = tuple[int, tuple[tuple[str, Any], ...]]


def sampled_futures(
    n: int, master: int, fixed: Iterable[str] = (), draw: bool = True
) -> list[SampledFuture]:
    """`n` futures from one master seed: each a seed (seeds_for) and, if `draw`, its row of a
    Latin-hypercube draw of every uncertain parameter not in `fixed` (parameter_draws), as
    plain values (whole-number parameters as ints). The same arguments give the same futures
    in any process: `run --samples`, the game's fan and `report --futures` all sample this
    way."""
    seeds = seeds_for(n, master)
    if not draw:
        return [(s, ()) for s in seeds]
    draws = parameter_draws(n, master, drawn_parameters(fixed)).to_dict("records")
    return [(seed, tuple(row.items())) for seed, row in zip(seeds, draws, strict=True)]


def parameter_draws(n: int, master: int, names: list[str] | None = None) -> pd.DataFrame:
    """n Latin-hypercube draws of the parameters over their plausible ranges (scipy.stats.qmc).
    Parameters whose data value is a whole number are drawn as whole numbers."""
    from scipy.stats import qmc

    params = default_world_data().parameters
    if names is None:
        names = drawn_parameters()
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(master)).random(n)
    lo = np.array([params[k].range[0] for k in names])
    hi = np.array([params[k].range[1] for k in names])
    draws = pd.DataFrame(lo + unit * (hi - lo), columns=names)
    for k in names:
        if isinstance(params[k].value, int) and not isinstance(params[k].value, bool):
            draws[k] = draws[k].round().astype(int)
    return draws


def experiment_names(folder: Path = EXPERIMENT_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


# Most runs one experiment may make unless `sweep --max-runs` raises it: 100,000 default runs
# take about 7 hours on 2 cores; a grid of 8 levers of 10 values (10^8 runs) would exhaust the
# memory before the first run.
MAX_RUNS = 100_000


def load_experiment(
    name_or_path: str, max_runs: int = MAX_RUNS, columns: Collection[str] | None = None
) -> Experiment:
    """Read and check an experiment file; every problem with its line and key. A design of
    more than `max_runs` runs is refused before any run is built. `columns`: the results
    table's (game/sim/results.py, which this layer does not import), to check that the file's
    outcomes read only those."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") and path.parent == Path("."):
        candidate = EXPERIMENT_DIR / f"{name_or_path}.yaml"
        if not candidate.exists():
            raise InputError(
                Problem(
                    f"unknown experiment '{name_or_path}'; expected a path to a "
                    f".yaml file or one of: {', '.join(experiment_names())}"
                )
            )
        path = candidate
    shown = shown_path(path)
    doc = read_yaml(path, shown)
    spec = validate(doc, ExperimentFile)
    if spec.draw_all:
        spec = _every_uncertainty(doc, spec)
    experiment = Experiment(spec, shown, doc.text)
    runs = experiment.run_count()
    if runs > max_runs:
        where = "replications" if "replications" in (doc.data or {}) else "name"
        raise InputError(
            doc.problem(
                (where,),
                f"the design makes {runs:,} runs (policies x draws x replications); the "
                f"most an experiment may make is {max_runs:,}: vary fewer levers or values, "
                "draw fewer samples, or raise the limit with `sweep --max-runs N`",
            )
        )
    problems = _check(doc, spec) + _check_outcomes(doc, spec, columns) + _check_search(doc, spec)
    if problems:
        raise InputError(problems)
    return experiment


def _every_uncertainty(doc: YamlDoc, spec: ExperimentFile) -> ExperimentFile:
    """`uncertainties: all` as the ranges of every parameter a sampled future draws
    (drawn_parameters), but those the scenario or a lever sets."""
    if spec.design == "grid":
        raise InputError(
            doc.problem(
                ("uncertainties",),
                "'all' draws every uncertain parameter: expected design: lhs or sobol (a grid "
                "of them would be 2 to the power of about 80 draws)",
            )
        )
    try:
        scenario = load_scenario(spec.scenario)
    except InputError as exc:
        raise InputError(doc.problem(("scenario",), exc.problems[0].message)) from None
    params = default_world_data().parameters
    fixed = set(scenario.parameters) | {k.split(".")[0] for k in spec.levers}
    ranges = {k: [float(v) for v in params[k].range] for k in drawn_parameters(fixed)}
    return spec.model_copy(update={"uncertainties": ranges, "draw_all": False})


def experiment_from(spec: ExperimentFile, source: str) -> Experiment:
    """An experiment built in code (the --from-save bridge); checked like a file."""
    text = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    return Experiment(spec, source, text)


def _check(doc: YamlDoc, spec: ExperimentFile) -> list[Problem]:
    out: list[Problem] = []
    try:
        scenario = load_scenario(spec.scenario)
    except InputError as exc:
        return [doc.problem(("scenario",), exc.problems[0].message)]
    params = default_world_data().parameters
    for key, values in spec.levers.items():
        for i, v in enumerate(values):
            try:
                with_overrides(scenario, {key: v})
            except InputError as exc:
                out.append(doc.problem(("levers", key, i), exc.problems[0].message))
                break
    for key, u in spec.uncertainties.items():
        p = params.get(key)
        if p is None:
            out.append(
                doc.problem(
                    ("uncertainties", key),
                    "unknown parameter; expected a name from assets/data/parameters.yaml",
                )
            )
            continue
        lo, hi = p.range
        values = u.values if isinstance(u, Values) else list(u)
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            out.append(
                doc.problem(("uncertainties", key), f"expected numbers, got {short(repr(values))}")
            )
        elif not all(lo <= float(v) <= hi for v in values):
            out.append(
                doc.problem(
                    ("uncertainties", key),
                    f"expected values within the parameter's range [{lo}, {hi}], "
                    f"got {short(repr(values))}",
                )
            )
        elif not isinstance(u, Values) and u[0] >= u[1]:
            out.append(
                doc.problem(
                    ("uncertainties", key), f"expected [low, high] with low < high, got {u}"
                )
            )
    if spec.design == "sobol" and not spec.uncertainties:
        out.append(doc.problem(("design",), "a Sobol design needs uncertainties to vary"))
    return out


def _check_outcomes(
    doc: YamlDoc, spec: ExperimentFile, columns: Collection[str] | None
) -> list[Problem]:
    """Outcome names unique and not a lever's or an uncertainty's, their columns in the results
    table (if `columns`), their windows within the runs' months."""
    out: list[Problem] = []
    seen: set[str] = set()
    taken = set(spec.levers) | set(spec.uncertainties)
    try:
        scenario = load_scenario(spec.scenario)
    except InputError:
        scenario = None  # _check reports it
    for i, o in enumerate(spec.outcomes):
        if o.name in seen:
            out.append(doc.problem(("outcomes", i, "name"), f"a second outcome named '{o.name}'"))
        elif o.name in taken:
            out.append(
                doc.problem(
                    ("outcomes", i, "name"),
                    f"'{o.name}' is a lever or an uncertainty of this experiment; choose another "
                    "name",
                )
            )
        seen.add(o.name)
        if columns is not None and (unknown := unknown_columns(o, columns)):
            numeric = sorted(set(columns) - NOT_NUMERIC)
            out.append(
                doc.problem(
                    ("outcomes", i, "expression"),
                    f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                    f"expected columns of the results table: {', '.join(numeric)}",
                )
            )
        if o.window is not None and scenario is not None:
            first = scenario.start
            last = first + (spec.months or scenario.months) - 1
            if o.window[1] < first or o.window[0] > last:
                out.append(
                    doc.problem(
                        ("outcomes", i, "window"),
                        f"the window ({o.window_text()}) is outside the runs' months "
                        f"({format_month(first)} to {format_month(last)}); expected months "
                        "the runs cover",
                    )
                )
    return out


def _check_search(doc: YamlDoc, spec: ExperimentFile) -> list[Problem]:
    """A search's levers known and their values allowed, its robustness and epsilons named by
    outcomes (one epsilon each), its budget at least a population."""
    search = spec.search
    if search is None:
        return []
    out: list[Problem] = []
    if spec.levers:
        out.append(
            doc.problem(
                ("levers",),
                "a search varies search.levers; the top-level levers are a sweep's grid: "
                "move them under search.levers as {range: [low, high]} or {choices: [...]}",
            )
        )
    if search.nfe < search.population:
        out.append(
            doc.problem(
                ("search", "nfe"),
                f"the budget ({search.nfe} candidates) is smaller than one population "
                f"({search.population}); expected nfe >= population",
            )
        )
    if not spec.outcomes:
        out.append(
            doc.problem(
                ("search",), "a search needs outcomes to optimise: add an `outcomes:` list"
            )
        )
    try:
        scenario = load_scenario(spec.scenario)
    except InputError:
        scenario = None  # _check reports it
    if scenario is not None:
        for key, lever in search.levers.items():
            for v in lever.values():
                try:
                    with_overrides(scenario, {key: v})
                except InputError as exc:
                    out.append(doc.problem(("search", "levers", key), exc.problems[0].message))
                    break
    names = [o.name for o in spec.outcomes]
    for part in ("robustness", "epsilons"):
        for key in getattr(search, part):
            if key not in names:
                out.append(
                    doc.problem(
                        ("search", part, key),
                        f"unknown outcome '{key}'; expected one of the file's outcomes: "
                        + (", ".join(names) or "(none)"),
                    )
                )
    for name in names:
        if name not in search.epsilons:
            out.append(
                doc.problem(
                    ("search", "epsilons"),
                    f"no epsilon for outcome '{name}'; expected one per outcome (the "
                    "resolution of the Pareto set, in the robust value's units)",
                )
            )
    return out
