"""Every shipped lesson's game saves and loads back, at its start and a turn in: a lesson
shorter than its scenario (threshold_game stops in 2025-09 while its parent schedules moves to
2026) once wrote saves its own loader refused, so neither a hot-seat class nor a hosted room
could be resumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.config.lesson import lesson_names, load_lesson
from game.play.session import GameSession


@pytest.mark.parametrize("name", lesson_names())
def test_a_lesson_game_saves_and_loads_back(name: str, tmp_path: Path) -> None:
    session = GameSession.from_lesson(load_lesson(name))
    for _ in range(session.turn_months):
        session.step()
    path = tmp_path / f"{name}.scgame"
    session.save(path)
    back = GameSession.load(path)
    assert back.model.turn == session.model.turn
    assert back.model.horizon == session.model.horizon
    assert back.scenario.end == session.scenario.end
    assert all(s.month <= back.scenario.end for s in back.scenario.schedule)
