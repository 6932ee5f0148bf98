"""Saves edited by someone who recomputes the checksum, and saves built to exhaust memory: each
is refused with one message naming the file, the member and the key (exit status 2 on the
command line), in bounded memory, never with a traceback or a game that runs backwards."""

from __future__ import annotations

import hashlib
import io
import json
import math
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy

from game.config.errors import InputError
from game.play.session import GameSession
from game.sim.save_checks import MAX_MEMBER_BYTES, MAX_SYNTHETIC
from game.sim.state import load_model, save_model
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A game a few months in, with a decision."""
    s = GameSession("historical", ["us"])
    s.step()
    s.decide("enforcement", 1.5)
    s.step()
    path = tmp_path_factory.mktemp("saves") / "good.scgame"
    s.save(path)
    return path


@pytest.fixture(scope="module")
def lesson_save(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lesson's game (its goals, events and questions are in the save), with an event."""
    from game.config.lesson import load_lesson

    s = GameSession.from_lesson(load_lesson("role_play"))
    s.step()
    s.inject(s.allowed_events[0])
    s.step()
    path = tmp_path_factory.mktemp("saves") / "lesson.scgame"
    s.save(path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_edited(path: Path, entries: dict[str, bytes], meta_changes: dict | None = None) -> Path:
    """Write `entries` as a save with a correct checksum, as an editor who knows the format
    would."""
    payload = {n: data for n, data in entries.items() if n != "meta.json"}
    h = hashlib.sha256()
    for name in sorted(payload):
        h.update(name.encode())
        h.update(payload[name])
    meta = json.loads(entries["meta.json"])
    meta["sha256"] = h.hexdigest()
    meta.update(meta_changes or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.json", json.dumps(meta))
        for name, data in entries.items():
            if name != "meta.json":
                z.writestr(name, data)
    return path


def edit_json(good: Path, out: Path, member: str, change: Callable[[dict[str, Any]], None]) -> Path:
    entries = members(good)
    plain = json.loads(entries[member])
    change(plain)
    entries[member] = json.dumps(plain).encode()
    return write_edited(out, entries)


def edit_array(good: Path, out: Path, member: str, change: Callable[[dict], None]) -> Path:
    entries = members(good)
    with np.load(io.BytesIO(entries[member]), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    entries[member] = buf.getvalue()
    return write_edited(out, entries)


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(InputError) as err:
        GameSession.load(path)
    message = str(err.value)
    assert path.name in message, message
    for needle in needles:
        assert needle in message, message
    return message


def _set(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(plain: dict[str, Any]) -> None:
        d = plain
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return change


# ----------------------------------------------------------------------------- edited values
VALUE_CASES = [
    # (id, member, keys, value, what the message must say)
    ("enforcement-nan", "model.json", ("policy", "global", "enforcement"), math.nan, "enforcement"),
    ("enforcement-neg", "model.json", ("policy", "global", "enforcement"), -5, "expected a value"),
    ("enforcement-big", "model.json", ("policy", "global", "enforcement"), 1e308, "got 1e+308"),
    ("enforcement-inf", "model.json", ("policy", "global", "enforcement"), -math.inf, "finite"),
    ("rule-unknown", "model.json", ("policy", "global", "export_rule"), "oct2099", "oct2099"),
    (
        "parameter-nan",
        "model.json",
        ("construct", "scenario", "parameters", "smuggling_detection"),
        math.nan,
        "construct.scenario.parameters.smuggling_detection",
    ),
    (
        "parameter-neg",
        "session.json",
        ("scenario", "parameters", "smuggling_detection"),
        -1.0,
        "scenario.parameters.smuggling_detection: expected a value in",
    ),
    ("horizon-huge", "model.json", ("construct", "horizon"), 10**9, "from 1 to 1200"),
    ("horizon-neg", "model.json", ("construct", "horizon"), -5, "construct.horizon"),
    ("turn-neg", "model.json", ("turn",), -100, "model.json: turn: expected a whole number"),
    ("synthetic", "model.json", ("construct", "synthetic_labs"), 10**7, str(MAX_SYNTHETIC)),
    (
        "end-2200",
        "session.json",
        ("scenario", "end"),
        "2200-01",
        "scenario.end: expected a month after start",
    ),
    ("decision-5", "session.json", ("decisions", 0, "date"), 5, "decisions[0].date"),
    ("decision-text", "session.json", ("decisions", 0, "date"), "5", "YYYY-MM"),
    ("decision-nan", "session.json", ("decisions", 0, "change", "value"), math.nan, "finite"),
    ("role-text", "session.json", ("roles",), "us", "roles"),
]


@pytest.mark.parametrize(
    "member,keys,value,needle", [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES]
)
def test_an_edited_value_is_refused_naming_its_place(
    good: Path, tmp_path: Path, member: str, keys: tuple, value: Any, needle: str
) -> None:
    path = edit_json(good, tmp_path / "edited.scgame", member, _set(*keys, value=value))
    message = refused(path, member, needle)
    assert "Traceback" not in message


def test_a_ragged_table_is_refused(good: Path, tmp_path: Path) -> None:
    def ragged(plain: dict[str, Any]) -> None:
        plain["datacollector"]["tables"]["blocs"]["gap_months"].pop()

    path = edit_json(good, tmp_path / "ragged.scgame", "model.json", ragged)
    refused(path, "model.json: datacollector.tables.blocs.gap_months: expected")


def test_negative_chip_stocks_are_refused(good: Path, tmp_path: Path) -> None:
    def negative(arrays: dict[str, np.ndarray]) -> None:
        arrays["ledger.stock"][0, 0, 0, 0] = -1000

    path = edit_array(good, tmp_path / "negative.scgame", "model.npz", negative)
    refused(path, "model.npz: ledger.stock: expected counts (>= 0), got -1000")


def test_an_array_of_the_wrong_shape_or_dtype_is_refused(good: Path, tmp_path: Path) -> None:
    path = edit_array(
        good, tmp_path / "shape.scgame", "ghost.npz", lambda a: a.update(x=np.zeros(3))
    )
    refused(path, "ghost.npz: x: unknown array")
    path = edit_array(
        good,
        tmp_path / "dtype.scgame",
        "model.npz",
        lambda a: a.update({"ledger.stock": a["ledger.stock"].astype(np.float32)}),
    )
    refused(path, "model.npz: ledger.stock: expected an array of int64, got float32")
    path = edit_array(
        good,
        tmp_path / "rows.scgame",
        "model.npz",
        lambda a: a.update({"labs.budget": np.zeros(5)}),
    )
    refused(path, "model.npz: labs.budget: expected an array of shape (22,), got (5,)")


def test_a_version_given_as_text_says_it_must_be_a_number(good: Path, tmp_path: Path) -> None:
    path = write_edited(tmp_path / "v.scgame", members(good), {"version": "1"})
    message = refused(path, "version must be the whole number 1, got the text '1'")
    assert "is not supported" not in message


def test_an_edited_save_is_refused_by_report_with_exit_2(good: Path, tmp_path: Path) -> None:
    path = edit_json(good, tmp_path / "turn.scgame", "model.json", _set("turn", value=-100))
    proc = run_cli("report", path, "--out", tmp_path / "r.html")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "turn.scgame: model.json: turn: expected a whole number from 0 to" in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_sweep_from_an_edited_save_exits_2_before_running(good: Path, tmp_path: Path) -> None:
    path = edit_json(
        good, tmp_path / "end.scgame", "session.json", _set("scenario", "end", value="2200-01")
    )
    proc = run_cli(
        "sweep",
        "--from-save",
        path,
        "--samples",
        "1",
        "--replications",
        "1",
        "--workers",
        "1",
        "--out",
        tmp_path / "sweep",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "session.json: scenario.end" in proc.stderr
    assert not (tmp_path / "sweep").exists()


def test_a_model_save_is_checked_like_a_game(tmp_path: Path) -> None:
    from game.sim.model import ChipWarModel

    model = ChipWarModel("historical", rng=3)
    model.run(2)
    good = tmp_path / "m.sav"
    save_model(model, good)
    bad = edit_json(good, tmp_path / "bad.sav", "state.json", _set("turn", value=500))
    with pytest.raises(InputError, match=r"bad.sav: state.json: turn: expected a whole number"):
        load_model(bad)
    assert load_model(good).turn == 2


# ----------------------------------------------------------------------------- memory
def _bomb_member(path: Path, good: Path, name: str, size: int) -> None:
    """The good save with member `name` replaced by `size` bytes of zeros (a few hundred KB
    once compressed), written in chunks so the test itself stays small."""
    entries = members(good)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            if n != name:
                z.writestr(n, data)
        chunk = bytes(1 << 20)
        with z.open(name, "w", force_zip64=True) as f:
            for _ in range(size >> 20):
                f.write(chunk)


@pytest.mark.parametrize("member", ["session.json", "meta.json"])
def test_a_member_that_inflates_beyond_the_cap_is_never_decompressed(
    good: Path, tmp_path: Path, member: str
) -> None:
    path = tmp_path / "bomb.scgame"
    _bomb_member(path, good, member, MAX_MEMBER_BYTES + (16 << 20))
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="too large") as err:
            GameSession.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "bomb.scgame" in str(err.value) and member in str(err.value)
    assert peak < 32 << 20, f"peak {peak / 2**20:.0f} MiB"


def test_a_member_that_lies_about_its_size_is_read_no_further(good: Path, tmp_path: Path) -> None:
    """The declared size is where reading stops: a member that inflates beyond it is damaged."""
    path = tmp_path / "liar.scgame"
    _bomb_member(path, good, "session.json", 8 << 20)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("session.json")
    # the zip64 extra field of the central directory entry holds the real size: make it small
    central = data.rfind(b"PK\x01\x02" + data[info.header_offset + 4 : info.header_offset + 6])
    start = data.find(b"session.json", central) + len("session.json")
    extra = data.find((8 << 20).to_bytes(8, "little"), start)
    assert extra > 0
    data[extra : extra + 8] = (1000).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="damaged"):
            GameSession.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20


def test_an_extra_large_array_is_not_loaded(good: Path, tmp_path: Path) -> None:
    """An array of 1 GiB of zeros added to the model's npz, with a valid checksum: refused by
    its name (and its header) before its data is read."""
    entries = members(good)
    # write the two large members with headers that declare 1 GiB (data: 64 MiB of zeros, the
    # header is what must stop the reading)
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(entries["model.npz"])) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != "labs.budget.npy":
                dst.writestr(info, src.read(info))
        for name in ("huge.npy", "labs.budget.npy"):
            with dst.open(name, "w", force_zip64=True) as f:
                npy.write_array_header_1_0(
                    f, {"descr": "<f8", "fortran_order": False, "shape": (1 << 27,)}
                )
                chunk = bytes(1 << 20)
                for _ in range(64):
                    f.write(chunk)
    entries["model.npz"] = buf.getvalue()
    path = write_edited(tmp_path / "arrays.scgame", entries)
    tracemalloc.start()
    try:
        message = refused(path, "model.npz: huge: unknown array", "labs.budget: expected an array")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "(134217728,)" in message
    assert peak < 200 << 20, f"peak {peak / 2**20:.0f} MiB"


def test_a_huge_synthetic_count_is_refused_before_anything_is_built(
    good: Path, tmp_path: Path
) -> None:
    path = edit_json(
        good,
        tmp_path / "labs.scgame",
        "model.json",
        _set("construct", "synthetic_labs", value=10**7),
    )
    tracemalloc.start()
    try:
        refused(path, "model.json: construct.synthetic_labs: expected a whole number from 0 to")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


# ----------------------------------------------------------------------------- at random
def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            out += _paths(v, prefix + (i,))
    return out


HOSTILE = st.sampled_from(
    [math.nan, math.inf, -math.inf, -1, -1e308, 1e308, 0, 10**12, "x", "", None, True, [], {}]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_edits_load_cleanly_or_are_refused_cleanly(
    good: Path, lesson_save: Path, tmp_path: Path, data: st.DataObject
) -> None:
    """Any value of session.json or model.json set to something hostile (or a key deleted), or
    an array of the model resized or retyped, with the checksum recomputed: the save loads and
    plays a month, or it is refused with an InputError naming the file; nothing else."""
    entries = members(data.draw(st.sampled_from([good, lesson_save])))
    member = data.draw(st.sampled_from(["session.json", "model.json", "model.npz"]))
    if member.endswith(".npz"):
        with np.load(io.BytesIO(entries[member]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        name = data.draw(st.sampled_from(sorted(arrays)))
        how = data.draw(st.sampled_from(["shape", "dtype", "drop", "negative", "nan"]))
        a = arrays[name]
        if how == "shape":
            arrays[name] = np.resize(a, (a.shape[0] + 1,) + a.shape[1:])
        elif how == "dtype":
            arrays[name] = a.astype(np.float32 if a.dtype != np.float32 else np.int64)
        elif how == "drop":
            del arrays[name]
        elif how == "negative" and a.size and a.dtype.kind in "if":
            arrays[name] = a - (a.max() + 2)
        elif how == "nan" and a.size and a.dtype.kind == "f":
            arrays[name] = np.full_like(a, np.nan)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        entries[member] = buf.getvalue()
    else:
        plain = json.loads(entries[member])
        where = data.draw(st.sampled_from(_paths(plain)))
        d = plain
        for k in where[:-1]:
            d = d[k]
        if data.draw(st.booleans()) and isinstance(d, dict):
            del d[where[-1]]
        else:
            d[where[-1]] = data.draw(HOSTILE)
        entries[member] = json.dumps(plain).encode()
    path = write_edited(tmp_path / "random.scgame", entries)
    try:
        session = GameSession.load(path)
    except InputError as exc:
        assert "random.scgame" in str(exc)
        return
    if not session.finished:
        session.step()


@pytest.mark.parametrize("bad", [999, -1, "0", True])
def test_an_edited_list_of_ignored_proposals_is_refused(tmp_path: Path, bad: Any) -> None:

    good = tmp_path / "good.scgame"
    GameSession("historical", ["us"]).save(good)
    edited = edit_json(
        good,
        tmp_path / "bad.scgame",
        "session.json",
        lambda p: p.__setitem__("proposals_ignored", [bad]),
    )
    with pytest.raises(InputError, match=r"proposals_ignored\[0\]: expected the number of one"):
        GameSession.load(edited)
