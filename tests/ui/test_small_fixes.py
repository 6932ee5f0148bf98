"""Small things a player or a teacher met (issue: the game as players meet it, item 8): the
gray-price chart says which chip it prices and when that changed; "Open the report" with no
browser says where the report is; a lesson's picture for the docs shows its introduction; a
screenshot says where it was written."""

from __future__ import annotations

import webbrowser
from pathlib import Path

from game.play.session import GameSession
from game.ui.app import App
from game.ui.scenes.debrief import DebriefScene
from game.ui.scenes.play import _gray_note
from tests.ui.test_ui import find, pump


def test_the_gray_chart_names_its_chip_and_the_month_it_changed() -> None:
    s = GameSession("historical", roles=["us"], rng=2022)
    for _ in range(40):  # to 2026-01: the gray market moves from the H100 to the B200
        s.step()
    changes = s.view.gray_chips("china")
    assert [c for _, c in changes][:1] == ["H100"] and changes[-1][1] == "B200"
    dates = [d for d, _ in changes]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    note = _gray_note(changes)
    assert note.startswith(changes[-2][1]) and f"B200 from {changes[-1][0]}" in note
    assert _gray_note([]) == "" and "H100" in _gray_note(changes[:1])


def test_open_the_report_without_a_browser_says_where_it_is(tmp_path: Path, monkeypatch) -> None:
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    app = App((1280, 800), saves_dir=tmp_path, projections=False, auto_report=False)
    try:
        scene = DebriefScene(app, GameSession("historical", roles=["us"], rng=1, months=3))
        app.replace(scene)
        pump(app, 2)
        scene.report_path = report
        scene.open_report()
        pump(app, 2)
        window = find(app, "#error")
        assert str(report.resolve()) in window.text_block.html_text.replace("<br>", "")
    finally:
        app.close()


def test_a_lessons_title_picture_is_its_introduction_and_says_where_it_went(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from game.ui import launch

    shown: list[list[str]] = []
    monkeypatch.setattr(
        App, "screenshot", lambda self, path: shown.append([type(x).__name__ for x in self.stack])
    )
    out = tmp_path / "intro.png"
    code = launch.play(
        lesson="threshold_game", scene="title", screenshot=str(out), saves_dir=str(tmp_path)
    )
    assert code == 0
    assert shown == [["PlayScene", "LessonIntroScene"]]  # not the plain title screen
    assert f"Wrote {out}" in capsys.readouterr().out
