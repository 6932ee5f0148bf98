"""Checking a save file before anything in it is trusted.

A save's checksum only proves that the file is whole: someone who edits it can recompute it.
So a save is read like any other input, in two steps:

- bounded reading: the zip's members are read only if they are ones the save should have,
  their declared sizes are checked before anything is decompressed, and each is read through a
  reader that stops at its cap whatever the zip declares (MAX_MEMBER_BYTES each,
  MAX_SAVE_BYTES in all); the arrays of a model are read one by one, each only if its name,
  dtype and shape (from the .npy header) are what the world the save describes has;
- the values, against the same schemas and ranges as the YAML files: the scenario goes through
  the scenario checks, every lever value through the lever spec, and the counts, dates, turn
  and horizon through their ranges.

Every problem is a Problem naming the file, the member and the key, so an edited save gets a
message and exit status 2, never a traceback or a game that runs backwards.
"""

from __future__ import annotations

import io
import json
import math
import random
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from numpy.lib import format as npy

from game.config.commands import PolicyChange, check_change
from game.config.dates import format_month, parse_month
from game.config.errors import InputError, Problem
from game.config.levers import PolicySpec
from game.config.scenario import MAX_MONTHS, parse_scenario_text
from game.config.world import WorldData

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

MiB = 1 << 20
# A 1200-month game saves about 4 MB of JSON per world; the arrays of the largest model
# (MAX_SYNTHETIC labs) take about 100 MB before compression.
MAX_MEMBER_BYTES = 64 * MiB  # one member of a save, decompressed
MAX_SAVE_BYTES = 256 * MiB  # all the members read from one save, and the file itself
MAX_ARRAYS_BYTES = 256 * MiB  # one model's arrays, decompressed
MAX_SYNTHETIC = 10_000  # synthetic labs, and synthetic brokers (benchmarks go to 5,000 each)
MAX_BROKER_SLOTS = 1 << 16  # the broker table grows by doubling as rings enter
MAX_VARIANTS = 256  # chips beyond the catalogue: variants designed during a game
LEGACY_ARRAYS = frozenset(  # arrays that saves from earlier builds lack (restore fills them in)
    {
        "model.smuggled_via",
        "model.fees_via",
        "labs.budget_factor",
        "labs.technique_gain",
        "labs.own_efficiency",
        "labs.distil_cut_until",
        "labs.ref_run_flop",
        "labs.ref_run_month",
    }
)
# axes of arrays whose length the state sets: (array, axis) -> what it counts
_CHIP_AXES = {
    "ledger.stock": 1,
    "ledger.produced": 0,
    "ledger.in_transit": 0,
    "ledger.seized": 0,
    "ledger.retired": 0,
    "labs.gray_inflight": 1,
    "labs.gray_price_paid": 0,
}
_NAN_ALLOWED = frozenset({"labs.capability"})  # a lab without a model yet
# arrays the world sets and play never changes: they must be the freshly built model's (for
# chips, the catalogue's rows; variants designed in play are checked by _INDEX_ARRAYS)
_STATIC_ARRAYS = frozenset(
    {
        "chips.vendor",
        "chips.ecosystem",
        "chips.variant_of",
        "chips.tflops",
        "chips.memory_gb",
        "chips.bandwidth",
        "chips.interconnect",
        "chips.die_area",
        "labs.country",
        "labs.bloc",
        "labs.frontier",
        "labs.growth_kind",
        "labs.founded",
        "labs.hosts",
    }
)
_INDEX_ARRAYS = {  # array -> what its values index (-1: none)
    "chips.vendor": "vendors",
    "chips.ecosystem": "ecosystems",
    "chips.variant_of": "chips",
    "labs.country": "countries",
    "labs.bloc": "blocs",
    "brokers.route": "countries",
    "brokers.ship_chip": "chips",
}
# every other number in the arrays is a count, an amount, a date or a multiplier: never < 0
_SIGNED_ARRAYS = frozenset({"labs.spent_month"})  # a month's net spending, may round below 0


class Where:
    """Collects the problems of one member of a save file, each with its key path."""

    def __init__(self, file: str, member: str) -> None:
        self.file, self.member = file, member
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(message, file=self.file, key=f"{self.member}: {key}"))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems[:20])


def describe(value: Any) -> str:
    """A value as a message shows it, with its type where that is what is wrong."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


# ----------------------------------------------------------------------------- bounded reading
def read_members(
    path: str | Path, names: Iterable[str], shown: str, what: str
) -> tuple[dict[str, bytes], list[str]]:
    """The members `names` of the zip at `path` that it has (and the list of all its member
    names), each read only after its declared size is checked and through a reader capped at
    MAX_MEMBER_BYTES; MAX_SAVE_BYTES in all. Raises InputError for a save too large, and lets
    zipfile's own errors through for a damaged one."""

    def too_large(detail: str) -> InputError:
        return InputError(
            Problem(
                f"the {what} is too large to be one ({detail}); a save holds at most "
                f"{MAX_MEMBER_BYTES // MiB} MiB per member and {MAX_SAVE_BYTES // MiB} MiB in all",
                file=shown,
            )
        )

    size = Path(path).stat().st_size
    if size > MAX_SAVE_BYTES:
        raise too_large(f"{size / MiB:.0f} MiB")
    out: dict[str, bytes] = {}
    total = 0
    with zipfile.ZipFile(path) as z:
        infos = {i.filename: i for i in z.infolist()}
        for name in names:
            info = infos.get(name)
            if info is None:
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise too_large(f"{name} declares {info.file_size / MiB:.0f} MiB")
            total += info.file_size
            if total > MAX_SAVE_BYTES:
                raise too_large(f"its members declare {total / MiB:.0f} MiB")
        for name in names:
            if name not in infos:
                continue
            with z.open(infos[name]) as f:
                data = f.read(MAX_MEMBER_BYTES + 1)
            if len(data) > MAX_MEMBER_BYTES or len(data) != infos[name].file_size:
                raise too_large(f"{name} inflates beyond what it declares")
            out[name] = data
    return out, list(infos)


def read_arrays(
    data: bytes, expected: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]], where: Where
) -> dict[str, np.ndarray]:
    """The arrays of an npz, each checked by its .npy header (name known, dtype and shape those
    of `expected` and `shapes`) before its data is read. Never unpickles."""
    out: dict[str, np.ndarray] = {}
    total = 0
    bound: dict[str, int] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > 2 * len(expected):
                where.add("", f"expected {len(expected)} arrays, got {len(infos)}")
                where.raise_if_any()
            for info in infos:
                name = info.filename.removesuffix(".npy")
                if name not in expected:
                    where.add(name, "unknown array; a save holds only the model's own")
                    continue
                with z.open(info) as f:
                    major, minor = npy.read_magic(f)
                    if (major, minor) == (1, 0):
                        shape, fortran, dtype = npy.read_array_header_1_0(f)
                    else:
                        shape, fortran, dtype = npy.read_array_header_2_0(f)
                    want = expected[name]
                    if dtype != want.dtype or dtype.hasobject:
                        where.add(name, f"expected an array of {want.dtype}, got {dtype}")
                        continue
                    want_shape = shapes[name]
                    if -1 in want_shape and len(shape) == len(want_shape):
                        free = shape[want_shape.index(-1)]
                        if free > MAX_BROKER_SLOTS or free != bound.setdefault("n", free):
                            where.add(
                                name,
                                f"expected as many slots as the other broker arrays, at most "
                                f"{MAX_BROKER_SLOTS}, got {free}",
                            )
                            continue
                        want_shape = tuple(free if n == -1 else n for n in want_shape)
                    if shape != want_shape:
                        where.add(name, f"expected an array of shape {want_shape}, got {shape}")
                        continue
                    total += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                    if total > MAX_ARRAYS_BYTES:
                        where.add(name, f"the arrays take over {MAX_ARRAYS_BYTES // MiB} MiB")
                        break
                    f.seek(0)
                    out[name] = npy.read_array(f, allow_pickle=False)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
        where.add("", f"the arrays cannot be read ({type(exc).__name__}: {exc})")
    missing = [n for n in expected if n not in out and n not in LEGACY_ARRAYS]
    if missing and not where.problems:
        where.add(missing[0], "missing array")
    where.raise_if_any()
    return out


# ----------------------------------------------------------------------------- values
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def whole(where: Where, key: str, v: Any, lo: int, hi: int) -> bool:
    """`v` is an int in [lo, hi], else a problem is added."""
    if not _is_int(v) or not lo <= v <= hi:
        where.add(key, f"expected a whole number from {lo} to {hi}, got {describe(v)}")
        return False
    return True


# The gray market's numbers: a broker's expected margin is a loss when the risk of seizure
# outweighs the markup (agents/broker.py: (price x (1 - risk) - cost) / cost, never below -1);
# a save made in such a month was refused before.
GRAY_BOUNDS = {"expected_margin": (-1.0, math.inf), "unmet_share": (0.0, 1.0)}


def number(where: Where, key: str, v: Any, lo: float = -math.inf, hi: float = math.inf) -> bool:
    """`v` is a finite number in [lo, hi], else a problem is added."""
    if not _is_number(v) or not math.isfinite(v) or not lo <= v <= hi:
        span = (
            "a finite number"
            if (lo, hi) == (-math.inf, math.inf)
            else f"a finite number >= {lo:g}"
            if hi == math.inf
            else f"a finite number from {lo:g} to {hi:g}"
        )
        where.add(key, f"expected {span}, got {describe(v)}")
        return False
    return True


def mapping(where: Where, key: str, v: Any, keys: Iterable[str] | None = None) -> bool:
    """`v` is a mapping (with exactly `keys`, if given), else a problem is added."""
    if not isinstance(v, dict):
        where.add(key, f"expected a mapping of keys to values, got {describe(v)}")
        return False
    if keys is not None:
        want = set(keys)
        missing, extra = sorted(want - set(v)), sorted(set(v) - want)
        if missing:
            where.add(f"{key}.{missing[0]}" if key else missing[0], "missing required key")
            return False
        if extra:
            where.add(
                f"{key}.{extra[0]}" if key else extra[0],
                f"unknown key; expected one of: {', '.join(sorted(want))}",
            )
            return False
    return True


def listing(where: Where, key: str, v: Any, n: int | None = None) -> bool:
    if not isinstance(v, list):
        where.add(key, f"expected a list, got {describe(v)}")
        return False
    if n is not None and len(v) != n:
        where.add(key, f"expected a list of {n}, got {len(v)} items")
        return False
    return True


def text(where: Where, key: str, v: Any, choices: Iterable[str] | None = None) -> bool:
    if not isinstance(v, str):
        where.add(key, f"expected text, got {describe(v)}")
        return False
    if choices is not None:
        options = list(choices)
        if v not in options:
            where.add(key, f"expected one of: {', '.join(options)}, got {v!r}")
            return False
    return True


def month_text(where: Where, key: str, v: Any, first: int, last: int) -> int | None:
    """A 'YYYY-MM' from `first` to `last` -> its month index, else a problem and None."""
    try:
        month = parse_month(v) if isinstance(v, str) else None
    except ValueError:
        month = None
    if month is None or not first <= month <= last:
        where.add(
            key,
            f"expected a month as YYYY-MM from {format_month(first)} to {format_month(last)}, "
            f"got {describe(v)}",
        )
        return None
    return month


_SCENARIO_KEYS = (
    "name",
    "description",
    "start",
    "end",
    "parameters",
    "initial",
    "schedule",
    "bots",
    "files",
    "pinned",
    "budget_growth",
)


def check_scenario(where: Where, key: str, d: Any, spec: PolicySpec) -> None:
    """A saved scenario (Scenario.to_plain) through the same checks as a scenario file: its
    schema, parameters in their ranges, every lever change against the lever spec, dates within
    it and at most MAX_MONTHS months."""
    if not mapping(where, key, d):
        return
    optional = {"pinned", "budget_growth"}
    extra = sorted(set(d) - set(_SCENARIO_KEYS))
    missing = sorted(set(_SCENARIO_KEYS) - optional - set(d))
    if extra:
        where.add(f"{key}.{extra[0]}", f"unknown key; expected one of: {', '.join(_SCENARIO_KEYS)}")
        return
    if missing:
        where.add(f"{key}.{missing[0]}", "missing required key")
        return
    growth = d.get("budget_growth", {})
    if mapping(where, f"{key}.budget_growth", growth):
        for bloc, path in growth.items():
            if mapping(where, f"{key}.budget_growth.{bloc}", path):
                for y in path:
                    if not (isinstance(y, str) and y.isdigit() and len(y) <= 4):
                        where.add(f"{key}.budget_growth.{bloc}", f"expected years, got {y!r}")
    if not listing(where, f"{key}.files", d["files"]) or not listing(
        where, f"{key}.pinned", d.get("pinned", [])
    ):
        return
    for i, f in enumerate(d["files"]):
        text(where, f"{key}.files[{i}]", f)
    for i, p in enumerate(d.get("pinned", [])):
        if (
            not isinstance(p, list)
            or len(p) != 2
            or p[0] not in spec.levers
            or not (p[1] is None or isinstance(p[1], str))
        ):
            where.add(f"{key}.pinned[{i}]", f"expected [lever, target], got {describe(p)}")
    if where.problems:
        return
    as_file = {
        "name": d["name"],
        "description": d["description"],
        "start": d["start"],
        "end": d["end"],
        "parameters": d["parameters"],
        "levers": d["initial"],
        "bots": d["bots"],
        "schedule": d["schedule"],
        "budget_growth": {
            bloc: {int(y): g for y, g in path.items()} for bloc, path in growth.items()
        },
    }
    try:
        parse_scenario_text(yaml.safe_dump(as_file, sort_keys=False), "<saved>")
    except InputError as exc:
        for p in exc.problems:
            sub = (
                (p.key or "").replace("levers", "initial", 1)
                if (p.key or "").startswith("levers")
                else p.key
            )
            where.add(f"{key}.{sub}" if sub else key, p.message)


def check_change_plain(
    where: Where,
    key: str,
    d: Any,
    spec: PolicySpec,
    world: WorldData,
    chip_ids: list[str] | None = None,
) -> PolicyChange | None:
    """A saved lever change ({actor, lever, value, target}) against the lever spec."""
    if not mapping(where, key, d):
        return None
    if not mapping(where, key, d, [k for k in ("actor", "lever", "value", "target") if k in d]):
        return None
    for k in ("actor", "lever", "value"):
        if k not in d:
            where.add(f"{key}.{k}", "missing required key")
            return None
    target = d.get("target")
    if not text(where, f"{key}.actor", d["actor"]) or not text(where, f"{key}.lever", d["lever"]):
        return None
    if target is not None and not text(where, f"{key}.target", target):
        return None
    value = d["value"]
    if not isinstance(value, bool | int | float | str):
        where.add(f"{key}.value", f"expected a lever value, got {describe(value)}")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        where.add(f"{key}.value", f"expected a finite number, got {value!r}")
        return None
    change = PolicyChange(d["actor"], d["lever"], value, target)
    errs = check_change(change, spec, world, chip_ids)
    for k, msg in errs:
        where.add(f"{key}.{k}", msg)
    return None if errs else change


def _actor_for(lever: str, target: str | None, spec: PolicySpec, world: WorldData) -> str:
    """Who may hold a lever's value in the policy state: its government, or for a vendor's or
    lab's lever the target itself (a chip's maker for a chip)."""
    lv = spec.levers[lever]
    if lv.owner not in ("vendor", "lab"):
        return lv.owner
    if lv.target == "chip":
        return next((c.vendor for c in world.chips if c.id == target), lv.owner)
    if lv.target == lv.owner and target is not None:
        return target
    return world.government_on("controller").id


def check_policy(
    where: Where, key: str, d: Any, spec: PolicySpec, world: WorldData, chip_ids: list[str]
) -> None:
    """The levers' values now: every one known and within the lever spec."""
    if not mapping(where, key, d, ["global", "by_target"]):
        return
    items: list[tuple[str, str, str | None, Any]] = []
    if mapping(where, f"{key}.global", d["global"]):
        items += [(f"{key}.global.{k}", k, None, v) for k, v in d["global"].items()]
    if mapping(where, f"{key}.by_target", d["by_target"]):
        for lever, per in d["by_target"].items():
            if mapping(where, f"{key}.by_target.{lever}", per):
                items += [(f"{key}.by_target.{lever}.{t}", lever, t, v) for t, v in per.items()]
    for k, lever, target, value in items:
        if lever not in spec.levers:
            where.add(k, f"unknown lever; expected one of: {', '.join(spec.levers)}")
            continue
        actor = _actor_for(lever, target, spec, world)
        plain = {"actor": actor, "lever": lever, "value": value, "target": target}
        sub = Where(where.file, where.member)
        check_change_plain(sub, k, plain, spec, world, chip_ids)
        for p in sub.problems:  # name the value, not the actor we supplied
            where.problems.append(Problem(p.message, file=p.file, key=f"{where.member}: {k}"))


# ----------------------------------------------------------------------------- a model's state
def check_construct(where: Where, plain: Any, spec: PolicySpec) -> None:
    """What a model is built from: its scenario, seed, horizon and synthetic actors. Checked
    before anything is built from it."""
    if not mapping(where, "", plain):
        where.raise_if_any()
    if not mapping(where, "construct", plain.get("construct")):
        where.raise_if_any()
    c = plain["construct"]
    mapping(
        where, "construct", c, ["scenario", "rng", "horizon", "synthetic_labs", "synthetic_brokers"]
    )
    where.raise_if_any()
    check_scenario(where, "construct.scenario", c["scenario"], spec)
    whole(where, "construct.rng", c["rng"], 0, 2**63 - 1)
    whole(where, "construct.horizon", c["horizon"], 1, MAX_MONTHS)
    whole(where, "construct.synthetic_labs", c["synthetic_labs"], 0, MAX_SYNTHETIC)
    whole(where, "construct.synthetic_brokers", c["synthetic_brokers"], 0, MAX_SYNTHETIC)
    where.raise_if_any()


def array_shapes(
    plain: dict[str, Any], skeleton: dict[str, np.ndarray], where: Where
) -> dict[str, tuple[int, ...]]:
    """The shape each array of this state must have: the freshly built model's, with the chip
    axis as long as the state's chip list, the broker table as long as its `brokers.alive`
    says (-1 here: read_arrays holds them to one length up to MAX_BROKER_SLOTS) and one row
    of frontier history per month."""
    parts = plain["parts"]
    n_chips = len(parts["chips"]["ids"])
    shapes: dict[str, tuple[int, ...]] = {}
    for name, a in skeleton.items():
        shape = list(a.shape)
        if name.startswith("chips."):
            shape[0] = n_chips
        if name in _CHIP_AXES:
            shape[_CHIP_AXES[name]] = n_chips
        if name.startswith("brokers."):
            shape[0] = -1  # any length up to MAX_BROKER_SLOTS, the same for every broker array
        if name == "model.frontier_hist":
            shape[0] = int(plain["turn"]) + 1
        shapes[name] = tuple(shape)
    return shapes


def check_state(
    where: Where, plain: dict[str, Any], model: ChipWarModel, skeleton_plain: dict[str, Any]
) -> None:
    """Everything else in a model's state (after check_construct), against the model built
    from its construct: counts, turn and dates, lever values, events, tables, generators."""
    spec, world = model.spec, model.world
    keys = [k for k in skeleton_plain if k != "construct"]
    optional = {"shocks", "domestic_hbm"}
    mapping(
        where,
        "",
        {k: v for k, v in plain.items() if k != "construct"}
        | {k: None for k in optional if k not in plain},
        keys,
    )
    where.raise_if_any()
    horizon = model.horizon
    start = model.start
    if whole(where, "turn", plain["turn"], 0, horizon):
        if plain["month"] != start - 1 + plain["turn"]:
            where.add(
                "month",
                f"expected {start - 1 + plain['turn']} (the month before {format_month(start)} "
                f"plus the turn), got {describe(plain['month'])}",
            )
        if plain["steps"] != plain["turn"]:
            where.add(
                "steps", f"expected {plain['turn']} (the turn), got {describe(plain['steps'])}"
            )
    if not isinstance(plain["running"], bool):
        where.add("running", f"expected true or false, got {describe(plain['running'])}")
    whole(where, "broker_serial", plain["broker_serial"], 0, 2**62)
    number(where, "hbm_stockpile", plain["hbm_stockpile"], 0.0)
    if "domestic_hbm" in plain:
        number(where, "domestic_hbm", plain["domestic_hbm"], 0.0)
    where.raise_if_any()
    last = start - 1 + plain["turn"]

    # the tables of chips and labs: ids known, lengths consistent
    parts = plain["parts"]
    if mapping(where, "parts", parts, list(skeleton_plain["parts"])):
        sk = skeleton_plain["parts"]
        if mapping(where, "parts.chips", parts["chips"], list(sk["chips"])):
            ids = parts["chips"]["ids"]
            n0 = len(sk["chips"]["ids"])
            for k in sk["chips"]:
                v = parts["chips"][k]
                if listing(where, f"parts.chips.{k}", v) and not n0 <= len(v) <= n0 + MAX_VARIANTS:
                    where.add(f"parts.chips.{k}", f"expected {n0} to {n0 + MAX_VARIANTS} chips")
                elif isinstance(v, list) and isinstance(ids, list) and len(v) != len(ids):
                    where.add(f"parts.chips.{k}", f"expected as many as the ids ({len(ids)})")
                elif isinstance(v, list) and not all(
                    isinstance(x, str) or (k == "designed_for" and x is None) for x in v
                ):
                    where.add(f"parts.chips.{k}", "expected a list of text")
            n_cat = model.chips.n_catalogue
            named = [x for x in ids if x] if isinstance(ids, list) else []
            if isinstance(ids, list) and ids[:n_cat] != sk["chips"]["ids"][:n_cat]:
                where.add("parts.chips.ids", "expected the world's chips first, in its order")
            elif len(set(named)) != len(named):
                where.add("parts.chips.ids", "expected each chip once")
        if mapping(where, "parts.labs", parts["labs"], list(sk["labs"])):
            if parts["labs"]["ids"] != sk["labs"]["ids"]:
                where.add("parts.labs.ids", "expected the labs of the world the save was made in")
            names = parts["labs"]["names"]
            if not listing(where, "parts.labs.names", names, len(sk["labs"]["ids"])) or not all(
                isinstance(x, str) for x in names
            ):
                where.add("parts.labs.names", "expected a name (text) for each lab")
        if mapping(where, "parts.ledger", parts["ledger"], list(sk["ledger"])):
            if parts["ledger"] != sk["ledger"]:
                where.add(
                    "parts.ledger.service_life",
                    f"expected {sk['ledger'].get('service_life')} (the scenario's), "
                    f"got {describe(parts['ledger'].get('service_life'))}",
                )
        mapping(where, "parts.brokers", parts["brokers"], list(sk["brokers"]))
    where.raise_if_any()
    chip_ids = list(parts["chips"]["ids"])

    check_policy(where, "policy", plain["policy"], spec, world, chip_ids)
    log = plain["command_log"]
    if listing(where, "command_log", log):
        for i, entry in enumerate(log[:100_000]):
            k = f"command_log[{i}]"
            if not isinstance(entry, list) or len(entry) != 3:
                where.add(k, f"expected [month, change, source], got {describe(entry)}")
                continue
            whole(where, f"{k}[0]", entry[0], start - 1, last + 1)
            check_change_plain(where, f"{k}[1]", entry[1], spec, world, chip_ids)
            text(where, f"{k}[2]", entry[2])
            if len(where.problems) > 20:
                break
    events = plain["events"]
    if listing(where, "events", events):
        for i, e in enumerate(events):
            if not isinstance(e, dict) or not all(
                isinstance(v, str | int | float | list | type(None)) for v in e.values()
            ):
                where.add(f"events[{i}]", f"expected a news item (a mapping), got {describe(e)}")
                break
    check_shocks(where, plain.get("shocks", []), model)
    gray = plain["gray"]
    if mapping(where, "gray", gray, list(skeleton_plain["gray"])):
        for k, ref in skeleton_plain["gray"].items():
            if isinstance(ref, bool):
                if not isinstance(gray[k], bool):
                    where.add(f"gray.{k}", f"expected true or false, got {describe(gray[k])}")
            else:
                number(where, f"gray.{k}", gray[k], *GRAY_BOUNDS.get(k, (0.0, math.inf)))
    vendors = plain["vendors"]
    if listing(where, "vendors", vendors, len(skeleton_plain["vendors"])):
        for i, (v, ref) in enumerate(zip(vendors, skeleton_plain["vendors"], strict=True)):
            check_vendor(where, f"vendors[{i}]", v, ref, len(chip_ids), len(model.country_ids))
    govs = plain["governments"]
    if mapping(where, "governments", govs, list(skeleton_plain["governments"])):
        for g, s in govs.items():
            keys = ["strategy"]  # saves before "leaks" and "via_seen" lack them
            keys += [k for k in ("leaks", "via_seen") if isinstance(s, dict) and k in s]
            if mapping(where, f"governments.{g}", s, keys):
                text(
                    where,
                    f"governments.{g}.strategy",
                    s["strategy"],
                    ["none", "reactive", "anticipating"],
                )
                leaks = s.get("leaks", [])
                if not isinstance(leaks, list) or not all(isinstance(x, str) for x in leaks):
                    where.add(f"governments.{g}.leaks", "expected a list of country ids")
                seen = s.get("via_seen", [])
                if not isinstance(seen, list) or not all(
                    isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in seen
                ):
                    where.add(f"governments.{g}.via_seen", "expected a list of chip counts")
    check_tables(where, plain["datacollector"], skeleton_plain["datacollector"], plain["turn"])
    check_rng(where, plain["rng"])
    where.raise_if_any()


def check_shocks(where: Where, shocks: Any, model: ChipWarModel) -> None:
    if not listing(where, "shocks", shocks):
        return
    known = {"customs": list(model.country_ids), "capacity": list(model.vendor_ids)}
    for i, s in enumerate(shocks):
        k = f"shocks[{i}]"
        if not mapping(where, k, s, ["event", "kind", "targets", "factor", "start", "end"]):
            continue
        text(where, f"{k}.event", s["event"])
        if text(where, f"{k}.kind", s["kind"], known) and listing(
            where, f"{k}.targets", s["targets"]
        ):
            for j, t in enumerate(s["targets"]):
                text(where, f"{k}.targets[{j}]", t, known[s["kind"]])
        number(where, f"{k}.factor", s["factor"], 0.0, 20.0)
        whole(where, f"{k}.start", s["start"], model.start, model.start + MAX_MONTHS)
        whole(where, f"{k}.end", s["end"], model.start - 1, model.start + 2 * MAX_MONTHS)


def check_vendor(
    where: Where, key: str, v: Any, ref: dict[str, Any], n_chips: int, n_countries: int
) -> None:
    optional = {"wafers", "defects", "mix"}
    if not mapping(where, key, v):
        return
    if not set(ref) - optional <= set(v) <= set(ref):
        mapping(where, key, v, list(ref))
        return
    for k in ("capacity", "premium", "demand_ratio", "recent_demand", "wafers", "defects"):
        if k in v:
            number(where, f"{key}.{k}", v[k], 0.0)
    whole(where, f"{key}.variants_made", v["variants_made"], 0, MAX_VARIANTS)
    if listing(where, f"{key}.pending", v["pending"]):  # variant designs under way
        for j, p in enumerate(v["pending"]):
            k = f"{key}.pending[{j}]"
            if mapping(where, k, p, ["parent", "lost", "ready"]):
                whole(where, f"{k}.parent", p["parent"], 0, n_chips - 1)
                whole(where, f"{k}.lost", p["lost"], 0, n_chips - 1)
                whole(where, f"{k}.ready", p["ready"], 0, 12 * 10_000)
    shapes = {"free_before": (n_countries, n_chips), "mix": (n_chips,)}
    for k, kind in (("free_before", bool), ("mix", float)):
        x = v.get(k)
        if x is None:
            continue
        try:
            a = np.array(x, dtype=object) if isinstance(x, list) and len(x) < 100_000 else None
            ok = a is not None and a.shape == shapes[k]
            ok = ok and all(
                isinstance(e, bool) if kind is bool else _is_number(e) and math.isfinite(e)
                for e in a.ravel()
            )
        except ValueError:
            ok = False
        if not ok:
            what = "true or false" if kind is bool else "finite numbers"
            where.add(f"{key}.{k}", f"expected a table {shapes[k]} of {what}")


def check_tables(where: Where, dc: Any, ref: dict[str, Any], turn: int) -> None:
    """The data tables: known tables and columns, every column of a table as long as the
    others, plain values."""
    if not mapping(where, "datacollector", dc, ["model_vars", "tables"]):
        return
    mv = dc["model_vars"]
    if mapping(where, "datacollector.model_vars", mv, list(ref["model_vars"])):
        for k, col in mv.items():
            if listing(where, f"datacollector.model_vars.{k}", col, turn + 1):
                _scalars(where, f"datacollector.model_vars.{k}", col)
    tables = dc["tables"]
    if not mapping(where, "datacollector.tables", tables, list(ref["tables"])):
        return
    for name, table in tables.items():
        k = f"datacollector.tables.{name}"
        if not mapping(where, k, table, list(ref["tables"][name])):
            continue
        lengths = {c: len(v) if isinstance(v, list) else -1 for c, v in table.items()}
        if -1 in lengths.values():
            col = next(c for c, n in lengths.items() if n < 0)
            where.add(f"{k}.{col}", f"expected a list, got {describe(table[col])}")
        elif len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            col = next(c for c, n in lengths.items() if n != lengths[first])
            where.add(
                f"{k}.{col}",
                f"expected {lengths[first]} values (as in '{first}'), got {lengths[col]}",
            )
        else:
            for c, v in table.items():
                if not _scalars(where, f"{k}.{c}", v):
                    break


def _scalars(where: Where, key: str, values: list[Any]) -> bool:
    for i, x in enumerate(values):
        if not (x is None or isinstance(x, str | int | float)):
            where.add(f"{key}[{i}]", f"expected a number or text, got {describe(x)}")
            return False
    return True


def check_rng(where: Where, d: Any) -> None:
    """Both random generators' states: they must be ones the generators accept."""
    if not mapping(where, "rng", d, ["numpy", "random"]):
        return
    try:
        if not isinstance(d["numpy"], dict) or d["numpy"].get("bit_generator") != "PCG64":
            raise ValueError("not a PCG64 state")
        np.random.PCG64().state = d["numpy"]
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        where.add("rng.numpy", f"expected the state of numpy's PCG64 generator ({exc})")
    r = d["random"]
    try:
        if not (
            isinstance(r, list)
            and len(r) == 3
            and isinstance(r[1], list)
            and all(_is_int(x) for x in r[1])
        ):
            raise ValueError("expected [version, list of whole numbers, gauss]")
        random.Random().setstate((r[0], tuple(r[1]), r[2]))
    except (ValueError, TypeError, OverflowError) as exc:
        where.add("rng.random", f"expected the state of Python's random generator ({exc})")


def check_arrays(
    where: Where,
    arrays: dict[str, np.ndarray],
    model: ChipWarModel,
    skeleton: dict[str, np.ndarray],
) -> None:
    """Values of the arrays: what the world sets as the world has it, counts of chips never
    negative, indices within what they index, no infinities, NaN only where a value may be
    unknown."""
    n_cat = model.chips.n_catalogue
    for name in sorted(_STATIC_ARRAYS & set(arrays)):
        got, want = arrays[name], skeleton[name]
        if name.startswith("chips."):
            got, want = got[:n_cat], want[:n_cat]
        if not np.array_equal(got, want):
            where.add(name, "expected the values of the world the save was made in")
    sizes = {
        "ecosystems": len(model.chips.ecosystem_ids),
        "vendors": len(model.vendor_ids),
        "countries": len(model.country_ids),
        "blocs": len(model.bloc_ids),
    }
    n_chips = arrays["chips.used"].shape[0] if "chips.used" in arrays else 0
    sizes["chips"] = n_chips
    for name, a in arrays.items():
        if a.dtype.kind == "f":
            if np.isinf(a).any():
                where.add(name, "expected finite numbers, got an infinity")
            elif name not in _NAN_ALLOWED and np.isnan(a).any():
                where.add(name, "expected numbers, got NaN")
        if name in _INDEX_ARRAYS:
            hi = sizes[_INDEX_ARRAYS[name]]
            if a.size and (a.min() < -1 or a.max() >= hi):
                where.add(name, f"expected indices from -1 to {hi - 1}")
        elif name not in _SIGNED_ARRAYS and a.dtype.kind in "iuf" and a.size:
            low = np.nanmin(a) if a.dtype.kind == "f" and not np.isnan(a).all() else a.min()
            if low < 0:
                what = "counts" if a.dtype.kind in "iu" else "values"
                where.add(name, f"expected {what} (>= 0), got {low:g}")
        if name == "model.efficiency" and not (a > 0).all():
            where.add(name, "expected values > 0 (algorithmic efficiency, a multiplier)")
    where.raise_if_any()


def json_member(where: Where, data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        where.add("", f"is not valid JSON ({type(exc).__name__})")
        where.raise_if_any()
