"""Saving, restoring and forking a model, exactly.

A snapshot is plain data: a JSON-able dict and a dict of numpy arrays. It holds everything that
changes during a run (ledger, tables, agents' decisions, policy, logs, results, both random
generators); everything else is rebuilt from the scenario and the seed, which the snapshot
also carries. Restoring builds the same skeleton, less what the load replaces whole (the initial
stocks, the first market view, the levers set before the start: ChipWarModel's `for_restore`),
and loads the snapshot over it; tests/sim/test_restore_skeleton.py holds it to a whole one.

A save file is a zip with `meta.json` (format, version, SHA-256 of the payload), `state.json` and
`arrays.npz` (loaded with allow_pickle=False: a save file from someone else can run no code).
It is written to a temporary file beside the target and moved into place, so a crash never
leaves a half-written save and never damages the previous one.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.broker import Broker
from game.config.commands import PolicyChange
from game.config.errors import InputError, Problem
from game.config.files import atomic_write_bytes
from game.config.levers import default_policy_spec
from game.config.scenario import Scenario
from game.core.shocks import Shock
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from game.sim.save_checks import (
    Where,
    array_shapes,
    check_arrays,
    check_construct,
    check_state,
    json_member,
    read_arrays,
    read_members,
)

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

FORMAT = "silicon-curtain-save"
VERSION = 1


def snapshot(model: ChipWarModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if model._in_step:
        raise RuntimeError("a model can only be saved or forked between steps")
    arrays: dict[str, np.ndarray] = {}
    parts = {}
    for name, part in (
        ("chips", model.chips),
        ("ledger", model.ledger),
        ("labs", model.labs),
        ("brokers", model.brokers),
    ):
        plain, arr = part.state()
        parts[name] = plain
        arrays.update(arr)
    arrays["model.efficiency"] = model.efficiency.copy()
    arrays["model.scarcity"] = model.scarcity.copy()
    arrays["model.cap_used"] = model.cap_used.copy()
    arrays["model.smuggled_via"] = model.smuggled_via.copy()
    arrays["model.fees_via"] = model.fees_via.copy()
    arrays["model.frontier_hist"] = np.array(model.frontier_hist)
    r_version, r_state, r_gauss = model.random.getstate()
    dc = model.datacollector
    plain = {
        "construct": {
            "scenario": model.scenario.to_plain(),
            "rng": model.rng_seed,
            "horizon": model.horizon,
            "synthetic_labs": model.synthetic_labs,
            "synthetic_brokers": model.synthetic_brokers,
        },
        "turn": model.turn,
        "month": model.month,
        "steps": model.steps,
        "running": model.running,
        "parts": parts,
        "policy": model.policy.to_plain(),
        "command_log": [[m, c.to_plain(), src] for m, c, src in model.command_log],
        "events": [dict(e) for e in model.events],
        "shocks": [x.to_plain() for x in model.shocks],
        "gray": dict(model.gray.__dict__),
        "broker_serial": model.broker_serial,
        "hbm_stockpile": model.hbm.stockpile,
        "domestic_hbm": model.hbm.domestic,
        "vendors": [v.state() for v in model.vendors],
        "governments": {k: g.state() for k, g in model.governments.items()},
        "datacollector": {
            "model_vars": {k: list(v) for k, v in dc.model_vars.items()},
            "tables": {k: {c: list(v) for c, v in t.items()} for k, t in dc.tables.items()},
        },
        "rng": {
            "numpy": model.rng.bit_generator.state,
            "random": [r_version, list(r_state), r_gauss],
        },
    }
    return plain, arrays


def restore(
    plain: dict[str, Any],
    arrays: dict[str, np.ndarray],
    overrides: dict[str, Any] | None = None,
) -> ChipWarModel:
    """The model a snapshot holds. `overrides` ({parameter: value}) sets parameters for the
    months still to come (a projection's drawn future): the state is the snapshot's, so what
    a parameter did before (initial stocks, the vintage ring) stays as it was."""
    return _load_into(_skeleton(plain, overrides, for_restore=True), plain, arrays)


def _skeleton(
    plain: dict[str, Any], overrides: dict[str, Any] | None = None, for_restore: bool = False
) -> ChipWarModel:
    """The model a snapshot's `construct` builds, before its state is loaded over it.
    `for_restore`: without what `_load_into` replaces (ChipWarModel's `for_restore`); a
    save's checks (checked_model) compare the state with a whole model's, so they build one."""
    c = plain["construct"]
    return ChipWarModel(
        Scenario.from_plain(c["scenario"]),
        rng=int(c["rng"]),
        months=int(c["horizon"]),
        synthetic_labs=int(c["synthetic_labs"]),
        synthetic_brokers=int(c["synthetic_brokers"]),
        overrides=overrides or None,
        for_restore=for_restore,
    )


def _load_into(
    model: ChipWarModel, plain: dict[str, Any], arrays: dict[str, np.ndarray]
) -> ChipWarModel:
    for slot in list(model.broker_agents):
        model.broker_agents[slot].remove()
    model.chips.load_state(plain["parts"]["chips"], arrays)
    model.ledger.load_state(plain["parts"]["ledger"], arrays)
    model.labs.load_state(plain["parts"]["labs"], arrays)
    model.brokers.load_state(plain["parts"]["brokers"], arrays)

    for slot in np.flatnonzero(model.brokers.alive):
        model.broker_agents[int(slot)] = Broker(model, int(slot))
    model.efficiency = arrays["model.efficiency"].copy()
    model.scarcity = arrays["model.scarcity"].copy()
    model.cap_used = arrays["model.cap_used"].copy()
    if "model.smuggled_via" in arrays:  # saves before the transit hubs' role lack it
        model.smuggled_via = arrays["model.smuggled_via"].copy()
    if "model.fees_via" in arrays:  # saves before the hubs' transit fees lack it
        model.fees_via = arrays["model.fees_via"].copy()
    model.frontier_hist = [row.copy() for row in arrays["model.frontier_hist"]]
    model.turn, model.month = int(plain["turn"]), int(plain["month"])
    model.steps, model.running = int(plain["steps"]), bool(plain["running"])
    model.policy.load_plain(plain["policy"])
    model.command_log = [
        (int(m), PolicyChange.from_plain(ch), src) for m, ch, src in plain["command_log"]
    ]
    model.events = [dict(e) for e in plain["events"]]
    model.shocks = [Shock.from_plain(x) for x in plain.get("shocks", [])]
    model.gray.__dict__.update(plain["gray"])
    model.broker_serial = int(plain["broker_serial"])
    model.hbm.stockpile = float(plain["hbm_stockpile"])
    model.hbm.domestic = float(plain.get("domestic_hbm", model.hbm.domestic))
    for v, s in zip(model.vendors, plain["vendors"], strict=True):
        v.load_state(s)
    for k, s in plain["governments"].items():
        model.governments[k].load_state(s)
    dc = model.datacollector
    dc.model_vars = {k: list(v) for k, v in plain["datacollector"]["model_vars"].items()}
    for name, table in plain["datacollector"]["tables"].items():
        dc.tables[name] = {col: list(vals) for col, vals in table.items()}
    model.rng.bit_generator.state = plain["rng"]["numpy"]
    rv, rs, rg = plain["rng"]["random"]
    model.random.setstate((rv, tuple(rs), rg))
    model.refresh_market_view()
    model.measure_lab_compute()
    return model


# ----------------------------------------------------------------------------- files
def _arrays_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def write_save(
    path: str | Path,
    fmt: str,
    version: int,
    entries: dict[str, bytes],
    info: dict[str, Any] | None = None,
    what: str = "save",
) -> None:
    """A versioned save: a zip of `entries` plus meta.json (format, version, SHA-256 of the
    entries), written whole or not at all; an earlier file at `path` survives a failed write."""
    path = Path(path)
    if path.is_dir():
        raise InputError(Problem("is a folder, expected a file name", file=str(path)))
    if not path.parent.is_dir():
        raise InputError(Problem(f"folder '{path.parent}' does not exist", file=str(path)))
    meta = {"format": fmt, "version": version, "sha256": _digest(entries), **(info or {})}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.json", json.dumps(meta, indent=1))
        for name, data in entries.items():
            z.writestr(name, data)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        raise InputError(
            Problem(
                f"cannot write the {what} ({exc.strerror or exc}); any earlier "
                f"file there is intact",
                file=str(path),
            )
        ) from exc


def read_save(
    path: str | Path,
    fmt: str,
    version: int,
    names: tuple[str, ...],
    what: str = "save file",
    others: dict[str, str] | None = None,
) -> dict[str, bytes]:
    """Open a save written by `write_save` and check it (format, version, every entry there,
    checksum); any problem is an InputError naming the file. `others` maps formats of other
    kinds of save to what to call them ("a saved model")."""
    shown = str(path)

    def bad(msg: str) -> InputError:
        return InputError(Problem(msg, file=shown))

    try:
        entries, _ = read_members(path, ("meta.json", *names), shown, what)
        meta = json.loads(entries.pop("meta.json"))
    except InputError:
        raise
    except FileNotFoundError:
        raise bad(f"{what} not found") from None
    except IsADirectoryError:
        raise bad(f"is a folder, not a {what}") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        ValueError,
        EOFError,
        OSError,
        RecursionError,
    ):
        raise bad(f"not a Silicon Curtain {what}, or it is damaged") from None
    if not isinstance(meta, dict):
        raise bad(f"not a Silicon Curtain {what}, or it is damaged")
    if meta.get("format") in (others or {}):
        raise bad(f"this is {others[meta['format']]}, not a {what}")  # type: ignore[index]
    if meta.get("format") != fmt:
        raise bad(f"not a Silicon Curtain {what}")
    found = meta.get("version")
    if found != version and str(found) == str(version):  # "1" or 1.0 for 1
        kind = "text" if isinstance(found, str) else type(found).__name__
        raise bad(
            f"{what} version must be the whole number {version}, got the {kind} {found!r} "
            f"(meta.json: version)"
        )
    if found != version:
        raise bad(
            f"{what} version {meta.get('version')} is not supported "
            f"(this build reads version {version})"
        )
    missing = [name for name in names if name not in entries]
    if missing:
        raise bad(f"the {what} is damaged (missing {', '.join(missing)})")
    if _digest(entries) != meta.get("sha256"):
        raise bad(f"the {what} is damaged (its checksum does not match)")
    return entries


def _digest(entries: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(entries):
        h.update(name.encode())
        h.update(entries[name])
    return h.hexdigest()


MODEL_ENTRIES = ("state.json", "arrays.npz")


def save_model(model: ChipWarModel, path: str | Path) -> None:
    plain, arrays = snapshot(model)
    entries = {"state.json": json.dumps(plain).encode(), "arrays.npz": _arrays_bytes(arrays)}
    write_save(
        path,
        FORMAT,
        VERSION,
        entries,
        {"date": model.date, "scenario": model.scenario.name, "turn": model.turn},
        what="save",
    )


def load_model(path: str | Path) -> ChipWarModel:
    entries = read_save(
        path,
        FORMAT,
        VERSION,
        MODEL_ENTRIES,
        what="save file",
        others={"silicon-curtain-game": "a saved game (load it in the game)"},
    )
    return checked_model(entries, "state.json", "arrays.npz", str(path))


def checked_model(
    entries: dict[str, bytes], json_name: str, npz_name: str, shown: str
) -> ChipWarModel:
    """The model held by the members `json_name` (its state) and `npz_name` (its arrays) of a
    save, every value checked (game/sim/save_checks.py) before it is used: InputError naming
    the file, the member and the key for anything wrong."""
    where = Where(shown, json_name)
    plain = json_member(where, entries[json_name])
    spec = default_policy_spec()
    check_construct(where, plain, spec)
    try:
        model = _skeleton(plain)
        skeleton_plain, skeleton_arrays = snapshot(model)
    except InputError as exc:  # the scenario, as this build checks it
        raise InputError(
            [
                Problem(p.message, file=shown, key=f"{json_name}: construct.scenario")
                for p in exc.problems
            ]
        ) from None
    check_state(where, plain, model, skeleton_plain)
    shapes = array_shapes(plain, skeleton_arrays, where)
    arrays_at = Where(shown, npz_name)
    arrays = read_arrays(entries[npz_name], skeleton_arrays, shapes, arrays_at)
    check_arrays(arrays_at, arrays, model, skeleton_arrays)
    try:
        return _load_into(model, plain, arrays)
    except InputError:
        raise
    except Exception as exc:  # a state the checks above let through: still the user's file
        forget(model)
        raise InputError(
            Problem(
                f"the save cannot be restored by this build ({type(exc).__name__}: {exc})",
                file=shown,
                key=json_name,
            )
        ) from None


def fork(model: ChipWarModel) -> ChipWarModel:
    """An independent copy: stepped with the same commands it has the same future."""
    return restore(*snapshot(model))
