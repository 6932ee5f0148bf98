"""Save, restore and fork: a copy of a world has the same future as the world itself, and a
save file is checked before it is trusted."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.config.commands import PolicyChange
from game.config.errors import InputError
from game.sim.model import ChipWarModel
from game.sim.state import fork, load_model, restore, save_model, snapshot


def _future(model: ChipWarModel, months: int = 12) -> tuple[pd.DataFrame, list, np.ndarray]:
    before = len(model.results())
    model.run(months)
    return (
        model.results().iloc[before:].reset_index(drop=True),
        model.events[:],
        model.ledger.stock.copy(),
    )


def _assert_same_future(a: ChipWarModel, b: ChipWarModel) -> None:
    fa, ea, sa = _future(a)
    fb, eb, sb = _future(b)
    pd.testing.assert_frame_equal(fa, fb)
    assert ea == eb
    assert np.array_equal(sa, sb)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


@pytest.fixture
def midgame() -> ChipWarModel:
    """A world two years in, with brokers at work, variants released and a player's command."""
    model = ChipWarModel("historical", rng=21)
    model.run(27)
    model.apply(PolicyChange("us", "enforcement", 1.5))
    return model


def test_fork_has_the_same_future(midgame: ChipWarModel) -> None:
    copy = fork(midgame)
    assert int(copy.brokers.alive.sum()) == int(midgame.brokers.alive.sum()) > 0
    _assert_same_future(midgame, copy)


def test_fork_does_not_touch_the_original(midgame: ChipWarModel) -> None:
    results = midgame.results().copy()
    stock = midgame.ledger.stock.copy()
    copy = fork(midgame)
    copy.apply(PolicyChange("us", "destination", "embargoed", "china"))
    copy.run(6)
    pd.testing.assert_frame_equal(midgame.results(), results)
    assert np.array_equal(midgame.ledger.stock, stock)
    assert midgame.policy.get("destination", "china") != "embargoed"


def test_fork_with_other_commands_diverges(midgame: ChipWarModel) -> None:
    copy = fork(midgame)
    copy.apply(PolicyChange("us", "licence_approval", 1.0))  # the schedule never sets this
    a, _, _ = _future(midgame)
    b, _, _ = _future(copy)
    assert not a.equals(b)


def test_save_and_load_have_the_same_future(midgame: ChipWarModel, tmp_path: Path) -> None:
    path = tmp_path / "game.save"
    save_model(midgame, str(path))
    loaded = load_model(str(path))
    pd.testing.assert_frame_equal(loaded.results(), midgame.results())
    assert loaded.command_log == midgame.command_log
    _assert_same_future(midgame, loaded)


def test_saving_over_a_save_replaces_it_whole(midgame: ChipWarModel, tmp_path: Path) -> None:
    path = tmp_path / "game.save"
    save_model(midgame, str(path))
    midgame.run(3)
    save_model(midgame, str(path))
    assert load_model(str(path)).turn == midgame.turn
    assert [p.name for p in tmp_path.iterdir()] == ["game.save"]  # no temporary files left


def test_a_damaged_save_is_refused_with_a_clear_message(
    midgame: ChipWarModel, tmp_path: Path
) -> None:
    path = tmp_path / "game.save"
    save_model(midgame, str(path))
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match="damaged|not a Silicon Curtain save"):
        load_model(str(path))
    # a payload edited behind the checksum's back
    path.write_bytes(good)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    state = json.loads(parts["state.json"])
    state["turn"] = 1
    parts["state.json"] = json.dumps(state).encode()
    with zipfile.ZipFile(tmp_path / "edited.save", "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    with pytest.raises(InputError, match="checksum"):
        load_model(str(tmp_path / "edited.save"))


def test_missing_save_and_missing_folder(tmp_path: Path, midgame: ChipWarModel) -> None:
    with pytest.raises(InputError, match="not found"):
        load_model(str(tmp_path / "nothing.save"))
    with pytest.raises(InputError, match="does not exist"):
        save_model(midgame, str(tmp_path / "no" / "such" / "folder.save"))


def test_a_save_from_before_the_scale_up_bound_and_the_techniques_restores(
    midgame: ChipWarModel,
) -> None:
    """A save without the labs' reference runs or technique gains loads: each lab's largest run
    becomes its reference, dated at the start, and its models count as dense."""
    plain, arrays = snapshot(midgame)
    for k in ("labs.ref_run_flop", "labs.ref_run_month", "labs.technique_gain"):
        del arrays[k]
    old = restore(plain, arrays)
    np.testing.assert_array_equal(old.labs.ref_run_flop, midgame.labs.best_run_flop)
    assert np.all(old.labs.ref_run_month == midgame.start)
    np.testing.assert_array_equal(old.labs.technique_gain, 1.0)
    old.run(3)
