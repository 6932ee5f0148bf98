"""The room's rules without a network: seats, turns, submissions, the facilitator, saving."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.config.errors import InputError
from game.net.room import Change, RoomError
from game.net.store import RoomStore
from tests.net.helpers import CHINA_ORDER, US_ORDER, small_room


def started(tmp_path: Path | None = None, hidden: bool = False):
    room = small_room(tmp_path, hidden=hidden)
    us = room.join(room.code, "us")
    china = room.join(room.code.lower(), "china")
    room.start()
    return room, us, china


def test_turn_resolves_when_every_seated_team_has_submitted() -> None:
    room, us, china = started()
    changes: list[Change] = []
    room.subscribe(changes.append)
    room.submit(us.token, 1, [US_ORDER], "a")
    assert room.turn == 1 and room.session.model.turn == 0
    room.submit(china.token, 1, [CHINA_ORDER], "b")
    assert room.resolved == [1] and room.turn == 2 and room.session.model.turn == 3
    made = {(d.role, d.change.lever, d.change.value) for d in room.session.decisions}
    assert made == {("us", "enforcement", 2.0), ("china", "domestic_subsidy", 0.5)}
    assert changes[-1].teams == {"us", "china"}
    view = room.view_for("us", us.token)
    assert view["turn"] == 2 and view["submitted"] is None and view["status"] == "open"


def test_a_team_without_seats_does_not_hold_the_turn() -> None:
    room = small_room()
    us = room.join(room.code, "us")
    room.start()
    room.submit(us.token, 1, [US_ORDER], "a")
    assert room.resolved == [1]


def test_facilitator_closes_a_turn_with_teams_missing() -> None:
    room, us, _ = started()
    room.submit(us.token, 1, [US_ORDER], "a")
    room.close_turn()
    assert room.resolved == [1]
    assert [d.role for d in room.session.decisions] == ["us"]


def test_same_submission_id_is_acknowledged_not_applied_again() -> None:
    room, us, china = started()
    accepted, dup = room.submit(us.token, 1, [US_ORDER], "a")
    again, dup2 = room.submit(us.token, 1, [US_ORDER], "a")
    assert (dup, dup2) == (False, True) and again == accepted
    room.submit(china.token, 1, [], "b")
    assert len(room.session.decisions) == 1


def test_a_new_submission_replaces_the_team_orders() -> None:
    room, us, china = started()
    room.submit(us.token, 1, [US_ORDER], "a")
    room.submit(us.token, 1, [{**US_ORDER, "value": 3.0}], "a2")
    room.submit(china.token, 1, [], "b")
    assert [d.change.value for d in room.session.decisions] == [3.0]


def test_a_later_order_for_the_same_lever_replaces_the_earlier() -> None:
    room, us, _ = started()
    accepted, _ = room.submit(us.token, 1, [US_ORDER, {**US_ORDER, "value": 4.0}], "a")
    assert accepted == [{**US_ORDER, "value": 4.0}]


def test_wrong_turn_and_lobby_refused() -> None:
    room = small_room()
    us = room.join(room.code, "us")
    with pytest.raises(RoomError) as lobby:
        room.submit(us.token, 1, [US_ORDER], "a")
    room.start()
    with pytest.raises(RoomError) as stale:
        room.submit(us.token, 2, [US_ORDER], "a")
    assert lobby.value.code == stale.value.code == "turn"
    assert room._turn.submitted == {}


def test_another_team_lever_and_bad_values_refused() -> None:
    room, us, china = started()
    with pytest.raises(RoomError) as other:
        room.submit(china.token, 1, [US_ORDER], "x")
    with pytest.raises(RoomError) as value:
        room.submit(us.token, 1, [{**US_ORDER, "value": 99.0}], "y")
    with pytest.raises(RoomError) as proposal:
        room.submit(us.token, 1, [{"adopt": 999}], "z")
    assert (other.value.code, value.value.code, proposal.value.code) == ("lever", "value", "value")
    assert room._turn.submitted == {}


def test_paused_refuses_everything_but_rejoining() -> None:
    room, us, _ = started()
    room.pause()
    for act in (
        lambda: room.submit(us.token, 1, [US_ORDER], "a"),
        lambda: room.draft(us.token, 1, [US_ORDER]),
        lambda: room.join(room.code, "china"),
    ):
        with pytest.raises(RoomError) as err:
            act()
        assert err.value.code == "paused"
    assert room.rejoin(room.code, us.token) is room.seats[us.token]
    room.resume()
    room.submit(us.token, 1, [US_ORDER], "a")


def test_free_seat_revokes_its_token_and_move_changes_its_team() -> None:
    room, us, china = started()
    changes: list[Change] = []
    room.subscribe(changes.append)
    room.move_seat(us.number, "china")
    assert changes[-1].freed == ((us.token, us.token),)
    with pytest.raises(RoomError) as err:
        room.submit(us.token, 1, [US_ORDER], "b")
    assert err.value.code == "lever"
    room.draft(us.token, 1, [CHINA_ORDER])  # speaks for China now
    assert room.view_for("china")["draft"] == [CHINA_ORDER]
    room.free_seat(china.number)
    assert changes[-1].freed == ((china.token, None),)
    with pytest.raises(RoomError) as gone:
        room.rejoin(room.code, china.token)
    assert gone.value.code == "token"


def test_wrong_code_and_full_team_refused() -> None:
    room = small_room()
    with pytest.raises(RoomError) as code:
        room.join("ZZZZZZ", "us")
    assert code.value.code == "room"
    for _ in range(12):
        room.join(room.code, "us")
    with pytest.raises(RoomError) as full:
        room.join(room.code, "us")
    assert full.value.code == "full"
    assert room.join(room.code, None).team == "china"


def test_hidden_news_masks_the_other_team_decisions() -> None:
    room, us, china = started(hidden=True)
    room.submit(us.token, 1, [US_ORDER], "a")
    room.submit(china.token, 1, [CHINA_ORDER], "b")
    china_news = " ".join(n["text"] for n in room.view_for("china")["news"])
    us_news = " ".join(n["text"] for n in room.view_for("us")["news"])
    assert "hidden until the facilitator reveals it" in china_news
    assert "hidden until the facilitator reveals it" not in room.view_for("china")["team"]["goal"]
    assert "US government: a decision" in china_news and "US government: a decision" not in us_news
    room.reveal(False)
    assert "hidden until" not in " ".join(n["text"] for n in room.view_for("china")["news"])


def test_view_is_json_and_lists_what_the_doc_says() -> None:
    import json

    room, us, _ = started()
    view = room.view_for("us", us.token)
    json.loads(json.dumps(view, allow_nan=False))
    assert set(view) >= {
        "room", "status", "turn", "turns", "date", "months_left", "team", "levers",
        "proposals", "draft", "submitted", "notice", "teams", "news", "charts", "score",
        "report",
    }  # fmt: skip
    assert view["turns"] == 4
    assert all("submitted" in t and "orders" not in t for t in view["teams"])


def test_resume_keeps_code_key_tokens_and_applies_a_turn_once(tmp_path: Path) -> None:
    room, us, china = started(tmp_path)
    room.submit(us.token, 1, [US_ORDER], "a")
    room.submit(china.token, 1, [CHINA_ORDER], "b")
    room.submit(us.token, 2, [{**US_ORDER, "value": 3.0}], "c")  # pending, saved too
    again, store = RoomStore.load(tmp_path)
    assert (again.code, again.key, set(again.seats)) == (room.code, room.key, set(room.seats))
    assert again.turn == 2 and again.resolved == [1] and again.status == "open"
    assert len(again.session.decisions) == 2 and again.session.model.turn == 3
    with pytest.raises(RoomError):  # turn 1 is not resolved a second time
        again.submit(us.token, 1, [US_ORDER], "a")
    assert again.submit(us.token, 2, [{**US_ORDER, "value": 3.0}], "c")[1] is True
    again.persist = store.save
    again.submit(china.token, 2, [], "d")
    assert again.resolved == [1, 2] and len(again.session.decisions) == 3
    assert len(list(tmp_path.glob("*.scgame"))) == 1


def test_a_foreign_room_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "room.json").write_text('{"format": "something-else"}')
    with pytest.raises(InputError, match="room.json.*expected a room saved by `host`"):
        RoomStore.load(tmp_path)
    (tmp_path / "room.json").write_text("not json")
    with pytest.raises(InputError, match="room.json"):
        RoomStore.load(tmp_path)


def test_game_ends_after_the_last_turn() -> None:
    room, us, _ = started()
    for _ in range(4):
        room.close_turn()
    assert room.status == "ended" and room.session.finished and room.resolved == [1, 2, 3, 4]
    with pytest.raises(RoomError) as err:
        room.submit(us.token, 5, [], "z")
    assert err.value.code == "ended"


def test_resolve_turn_checks_every_order_before_applying_any() -> None:
    from game.config.errors import CommandError

    session = small_room().session
    with pytest.raises(CommandError):
        session.resolve_turn({"us": [US_ORDER], "china": [US_ORDER]})
    assert session.decisions == [] and session.model.turn == 0
    session.resolve_turn({"china": [CHINA_ORDER], "us": [US_ORDER]})
    assert [d.role for d in session.decisions] == ["us", "china"]  # the game's team order
    assert session.model.turn == 3 and not session.handoff_due


def test_a_team_whose_orders_the_world_no_longer_allows_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders checked at submission can fail when the turn resolves (an event came in between):
    the team's are dropped, the others' applied, and the team reads why on its page, kept
    across a restart and gone once the next turn resolves."""
    from game.config.errors import CommandError, Problem

    room, us, china = started(tmp_path)
    room.submit(us.token, 1, [US_ORDER], "a")
    real = room.session.check_orders

    def world_changed(team, orders):
        if team == "us" and orders:
            raise CommandError(Problem("enforcement is no longer yours to set", key="lever"))
        return real(team, orders)

    monkeypatch.setattr(room.session, "check_orders", world_changed)
    room.submit(china.token, 1, [CHINA_ORDER], "b")
    assert room.resolved == [1]
    assert [d.role for d in room.session.decisions] == ["china"]
    notice = room.view_for("us", us.token)["notice"]
    assert "turn 1" in notice and "enforcement is no longer yours" in notice
    assert room.view_for("china", china.token)["notice"] is None
    assert [t["dropped"] for t in room.overview()["teams"]] == [True, False]

    again, _ = RoomStore.load(tmp_path)
    assert again.view_for("us", us.token)["notice"] == notice
    monkeypatch.setattr(room.session, "check_orders", real)
    room.submit(us.token, 2, [US_ORDER], "c")
    room.submit(china.token, 2, [], "d")
    assert room.view_for("us", us.token)["notice"] is None
