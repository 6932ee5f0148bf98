"""The fan's label says what the shading is: futures over what we don't know, or an older
projection kept on the screen while the current one is computed."""

from __future__ import annotations

import dataclasses

import numpy as np

from game.play.projection import Fan
from game.ui.scenes.play import _fan_note


def _fan(uncertain: bool) -> Fan:
    band = {"us": np.zeros(3)}
    return Fan(["2024-04", "2024-05", "2024-06"], band, band, band, 1, 8, uncertain)


def test_the_fan_note_names_its_futures_and_its_age() -> None:
    assert _fan_note(None, False) == ""
    assert _fan_note(_fan(True), True) == "shaded: 10-90% of 8 futures over what we don't know"
    assert _fan_note(_fan(False), True) == "shaded: 10-90% of 8 futures (luck only)"
    assert _fan_note(_fan(True), False) == "shaded: projected from 2024-03; updating"


def test_the_why_window_names_the_unknowns_that_move_a_bloc_most() -> None:
    from game.ui.scenes.play import _unknowns

    fan = dataclasses.replace(
        _fan(True), drivers={"china": [("algo_doubling_months", -0.8), ("budget_scale", 0.5)]}
    )
    text = _unknowns(fan, "china")
    assert "algo_doubling_months: higher lowers its capability" in text
    assert "budget_scale: higher raises its capability" in text and "8 projected futures" in text
    assert _unknowns(fan, "us") == _unknowns(None, "us") == "No projection with drawn unknowns yet."
