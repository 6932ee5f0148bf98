"""The world's data (assets/data/*.yaml): chips, countries, actors and parameters, loaded into
typed, frozen records. Every cross-reference (a chip's vendor, a lab's country, a source key) is
checked here, so the model can trust what it is given."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from game.config.dates import format_month, parse_month
from game.config.errors import InputError, Problem
from game.config.paths import DATA_DIR
from game.config.validation import Strict, validate
from game.config.yamlfile import YamlDoc, read_yaml, shown_path


def _month(value: Any) -> str:
    return format_month(parse_month(value))


Month = Annotated[str, BeforeValidator(_month)]
Text = Annotated[str, Field(min_length=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


def _up_to(high: float, positive: bool = True) -> Any:
    """A number above 0 (or at least 0) and at most `high`: far beyond any real chip or lab,
    but short of where the model's products overflow to inf or NaN."""
    return Annotated[float, Field(gt=0, le=high) if positive else Field(ge=0, le=high)]


# Largest magnitude of a parameter's value or range ends (the largest shipped is about 1.2e7).
MAX_PARAMETER = 1e12
# Parameters in these units are durations or factors the model divides by or takes the log of:
# their range must lie above 0.
POSITIVE_UNITS = ("months", "years", "x", "multiplier")


def _range_ok(r: list[float]) -> tuple[float, float]:
    if r[0] > r[1]:
        raise ValueError(f"range must be [low, high] with low <= high, got {list(r)}")
    return (r[0], r[1])


# ----------------------------------------------------------------------------- parameters
class ParamSpec(Strict):
    value: float | int
    range: Annotated[list[float], Field(min_length=2, max_length=2), AfterValidator(_range_ok)]
    unit: Text
    source: Text
    description: Text
    # false: left at its value when the parameters are sampled for the historical runs (the
    # bots' thresholds: no historical run has a bot, so drawing them would only thin the sample)
    drawn: bool = True


class ParametersFile(Strict):
    sources: dict[str, Text]
    parameters: dict[str, ParamSpec]


# ----------------------------------------------------------------------------- chips
class ChipSpec(Strict):
    id: Text
    name: Text
    vendor: Text
    released: Month
    end_of_sale: Month | None = None
    variant_of: str | None = None
    designed_for: str | None = None
    dense_bf16_tflops: _up_to(1e6)
    memory_gb: _up_to(1e6)
    memory_bandwidth_tbps: _up_to(1e4)
    interconnect_gbps: _up_to(1e7, positive=False)
    die_area_mm2: _up_to(1e6)
    price_usd: _up_to(1e9)
    ecosystem: Text
    source: Text
    # How much of a smuggling ring's capacity one chip takes per dollar, against a chip sold as
    # a card or in an air-cooled 8-GPU server (the kind prosecuted rings moved): 1 unless the
    # catalogue says the chip ships only in bigger, liquid-cooled systems (agents/broker.py).
    smuggling_difficulty: Annotated[float, Field(ge=1, le=1000)] = 1.0


class Ecosystem(Strict):
    factor: Annotated[float, Field(gt=0, le=1)]
    source: Text


class ChipsFile(Strict):
    sources: dict[str, Text]
    chips: Annotated[list[ChipSpec], Field(min_length=1)]
    ecosystems: dict[str, Ecosystem]


# ----------------------------------------------------------------------------- countries
Role = Literal["producer", "consumer", "transit"]


class Bloc(Strict):
    id: Text
    name: Text


class CountrySpec(Strict):
    id: Text
    name: Text
    iso3: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    bloc: Text
    roles: list[Role]
    customs: Annotated[float, Field(ge=0, le=3)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    source: Text


class CountriesFile(Strict):
    sources: dict[str, Text]
    blocs: Annotated[list[Bloc], Field(min_length=2)]
    countries: Annotated[list[CountrySpec], Field(min_length=2)]


# ----------------------------------------------------------------------------- actors
class VendorSpec(Strict):
    id: Text
    name: Text
    country: Text
    capacity_per_month: _up_to(1e9, positive=False) | None
    capacity_growth: _up_to(100) | None
    makes_variants: bool
    sells_to: list[Text] | None = None
    source: Text


class GovernmentSpec(Strict):
    id: Text
    name: Text
    country: Text
    # The countries whose own levers (target: country, owner: this government) it sets; a
    # government for one country leaves it empty. The transit team sets several hubs' customs.
    countries: list[Text] = []
    # Its side in the contest: the controller writes the export rules the rule engine applies,
    # the target's bloc is what they aim at, hubs are where the gray market changes hands.
    side: Literal["controller", "target", "hubs"]


class PortedStep(Strict):
    since: Month
    share: Share


class LabSpec(Strict):
    id: Text
    name: Text
    country: Text
    frontier: bool
    growth: Literal["frontier", "other"]
    founded: Month | None = None
    budget_musd: _up_to(1e8, positive=False)
    risk_appetite: Share
    best_model_flop: _up_to(1e40, positive=False)
    hosts_rentals: bool = False
    initial_stock: dict[str, Annotated[int, Field(ge=0, le=1_000_000_000)]]
    source: Text
    # The share of the lab's work ported to a software ecosystem (chips.yaml ecosystems), from
    # the start (a number) or in steps ([{since: month, share: s}, ...]; none before the
    # first). An ecosystem not named is open to all of the lab's work.
    ported: dict[Text, Share | Annotated[list[PortedStep], Field(min_length=1)]] = {}
    ported_source: Text | None = None


class ActorsFile(Strict):
    sources: dict[str, Text]
    vendors: Annotated[list[VendorSpec], Field(min_length=1)]
    governments: Annotated[list[GovernmentSpec], Field(min_length=1)]
    labs: Annotated[list[LabSpec], Field(min_length=1)]


# ----------------------------------------------------------------------------- the bundle
class WorldData(Strict):
    """Everything in assets/data, checked and cross-referenced."""

    parameters: dict[str, ParamSpec]
    chips: list[ChipSpec]
    ecosystems: dict[str, Ecosystem]
    blocs: list[Bloc]
    countries: list[CountrySpec]
    vendors: list[VendorSpec]
    governments: list[GovernmentSpec]
    labs: list[LabSpec]
    sources: dict[str, str]

    def own_countries(self, government: str) -> list[str]:
        """The countries a government sets its per-country levers for, when it is limited to
        some (the transit hubs set their own customs only); [] for no limit or no such one."""
        return next((list(g.countries) for g in self.governments if g.id == government), [])

    def actor_names(self) -> dict[str, str]:
        """Every vendor's, lab's and government's name by id (a government's wins a clash)."""
        return (
            {v.id: v.name for v in self.vendors}
            | {lab.id: lab.name for lab in self.labs}
            | {g.id: g.name for g in self.governments}
        )

    def government_on(self, side: str) -> GovernmentSpec:
        """The government on one side of the contest (the data has exactly one per side)."""
        return next(g for g in self.governments if g.side == side)

    def bloc_of(self, country: str) -> str:
        return next(c.bloc for c in self.countries if c.id == country)

    @property
    def controller_bloc(self) -> str:
        """The bloc whose export rules apply (the US in the shipped world)."""
        return self.bloc_of(self.government_on("controller").country)

    @property
    def target_bloc(self) -> str:
        """The bloc the rules aim at (China in the shipped world)."""
        return self.bloc_of(self.government_on("target").country)

    def parameter_values(self) -> dict[str, float]:
        return {k: p.value for k, p in self.parameters.items()}


def _unique(doc: YamlDoc, items: list[Any], section: str) -> list[Problem]:
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        if item.id in seen:
            out.append(
                doc.problem(
                    (section, i, "id"),
                    f"duplicate id '{item.id}' (first at {section}[{seen[item.id]}])",
                )
            )
        seen.setdefault(item.id, i)
    return out


def _ref(
    doc: YamlDoc, path: tuple[Any, ...], value: str | None, known: Any, what: str
) -> list[Problem]:
    if value is None or value in known:
        return []
    return [doc.problem(path, f"unknown {what} '{value}'; expected one of: {', '.join(known)}")]


def load_world_data(data_dir: str | Path = DATA_DIR) -> WorldData:
    """Read and check the four data files; raise InputError listing every problem."""
    data_dir = Path(data_dir)

    def read(name: str) -> YamlDoc:
        path = data_dir / name
        return read_yaml(path, shown_path(path))

    problems: list[Problem] = []
    docs = {}
    files = {}
    for name, cls in (
        ("parameters.yaml", ParametersFile),
        ("chips.yaml", ChipsFile),
        ("countries.yaml", CountriesFile),
        ("actors.yaml", ActorsFile),
    ):
        try:
            docs[name] = read(name)
            files[name] = validate(docs[name], cls)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)

    params: ParametersFile = files["parameters.yaml"]
    chips: ChipsFile = files["chips.yaml"]
    geo: CountriesFile = files["countries.yaml"]
    actors: ActorsFile = files["actors.yaml"]
    problems += _check_parameters(docs["parameters.yaml"], params)
    problems += _check_chips(docs["chips.yaml"], chips, [v.id for v in actors.vendors])
    problems += _check_countries(docs["countries.yaml"], geo)
    problems += _check_actors(docs["actors.yaml"], actors, chips, geo)
    if problems:
        raise InputError(problems)
    return WorldData(
        parameters=params.parameters,
        chips=chips.chips,
        ecosystems=chips.ecosystems,
        blocs=geo.blocs,
        countries=geo.countries,
        vendors=actors.vendors,
        governments=actors.governments,
        labs=actors.labs,
        sources={**params.sources, **chips.sources, **geo.sources, **actors.sources},
    )


def _check_parameters(doc: YamlDoc, params: ParametersFile) -> list[Problem]:
    problems = []
    for key, p in params.parameters.items():
        problems += _ref(doc, ("parameters", key, "source"), p.source, params.sources, "source")
        lo, hi = p.range
        if max(abs(lo), abs(hi), abs(p.value)) > MAX_PARAMETER:
            problems.append(
                doc.problem(
                    ("parameters", key),
                    f"expected a value and range within +-{MAX_PARAMETER:g}, got {p.value} "
                    f"in [{lo}, {hi}]",
                )
            )
        elif p.unit.split()[0] in POSITIVE_UNITS and lo <= 0:
            problems.append(
                doc.problem(
                    ("parameters", key, "range"),
                    f"expected a range above 0 (a duration or factor in {p.unit}), "
                    f"got [{lo}, {hi}]",
                )
            )
        elif not lo <= p.value <= hi:
            problems.append(
                doc.problem(
                    ("parameters", key, "value"),
                    f"value {p.value} outside its own range [{lo}, {hi}]",
                )
            )
    return problems


def _check_chips(doc: YamlDoc, chips: ChipsFile, vendor_ids: list[str]) -> list[Problem]:
    chip_ids = [c.id for c in chips.chips]
    problems = _unique(doc, chips.chips, "chips")
    for i, c in enumerate(chips.chips):
        problems += _ref(doc, ("chips", i, "vendor"), c.vendor, vendor_ids, "vendor")
        problems += _ref(doc, ("chips", i, "ecosystem"), c.ecosystem, chips.ecosystems, "ecosystem")
        problems += _ref(doc, ("chips", i, "variant_of"), c.variant_of, chip_ids, "chip")
        problems += _ref(doc, ("chips", i, "source"), c.source, chips.sources, "source")
    return problems


def _check_countries(doc: YamlDoc, geo: CountriesFile) -> list[Problem]:
    bloc_ids = [b.id for b in geo.blocs]
    problems = _unique(doc, geo.countries, "countries") + _unique(doc, geo.blocs, "blocs")
    for i, c in enumerate(geo.countries):
        problems += _ref(doc, ("countries", i, "bloc"), c.bloc, bloc_ids, "bloc")
        problems += _ref(doc, ("countries", i, "source"), c.source, geo.sources, "source")
    return problems


def _check_actors(
    doc: YamlDoc, actors: ActorsFile, chips: ChipsFile, geo: CountriesFile
) -> list[Problem]:
    chip_ids = [c.id for c in chips.chips]
    country_ids = [c.id for c in geo.countries]
    bloc_ids = [b.id for b in geo.blocs]
    problems: list[Problem] = []
    for section in ("vendors", "governments", "labs"):
        items = getattr(actors, section)
        problems += _unique(doc, items, section)
        for i, a in enumerate(items):
            problems += _ref(doc, (section, i, "country"), a.country, country_ids, "country")
            for j, c in enumerate(getattr(a, "countries", [])):
                problems += _ref(doc, (section, i, "countries", j), c, country_ids, "country")
            if hasattr(a, "source"):
                problems += _ref(doc, (section, i, "source"), a.source, actors.sources, "source")
    for side in ("controller", "target"):
        on_side = [i for i, g in enumerate(actors.governments) if g.side == side]
        if len(on_side) != 1:
            where = ("governments", on_side[1], "side") if on_side else ("governments",)
            problems.append(
                doc.problem(where, f"expected exactly one government with side: {side}")
            )
    for i, v in enumerate(actors.vendors):
        for j, bloc in enumerate(v.sells_to or []):
            problems += _ref(doc, ("vendors", i, "sells_to", j), bloc, bloc_ids, "bloc")
    for i, lab in enumerate(actors.labs):
        for chip in lab.initial_stock:
            problems += _ref(doc, ("labs", i, "initial_stock", chip), chip, chip_ids, "chip")
        problems += _check_ported(doc, i, lab, chips, actors.sources)
    return problems


def _check_ported(
    doc: YamlDoc, i: int, lab: LabSpec, chips: ChipsFile, sources: dict[str, str]
) -> list[Problem]:
    """A lab's ported shares name known ecosystems, step forward in time and cite a source."""
    problems: list[Problem] = []
    for eco, steps in lab.ported.items():
        where = ("labs", i, "ported", eco)
        problems += _ref(doc, where, eco, chips.ecosystems, "ecosystem")
        if isinstance(steps, list):
            months = [parse_month(step.since) for step in steps]
            if any(b <= a for a, b in zip(months, months[1:], strict=False)):
                problems.append(doc.problem(where, "expected the steps' months in rising order"))
    if lab.ported and lab.ported_source is None:
        problems.append(doc.problem(("labs", i, "ported"), "expected a ported_source beside it"))
    problems += _ref(doc, ("labs", i, "ported_source"), lab.ported_source, sources, "source")
    return problems


@cache
def default_world_data() -> WorldData:
    """The shipped data, loaded once per process (it is frozen, so sharing it is safe)."""
    return load_world_data(DATA_DIR)
