"""A networked class's room: its code and facilitator key, the teams' seats, the open turn's
drafts and submissions, and the facilitator's controls (docs/classroom-protocol.md).

Pure and synchronous: no sockets, no event loop. The server's event loop and the pygame
projector window both call it, from different threads, so every method takes the room's
lock; listeners (`subscribe`) are told of each change after the lock is released, from
whichever thread made it, and must only hand the news on (never block, never call back into
the room while the caller waits on them). Codes, keys and tokens come from `secrets`, never
from the simulation's random numbers, which must stay the world's alone.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from game.config.errors import CommandError
from game.net.views import NO_ORDERS, event_menu, world_part
from game.play.session import GameSession, Order

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, no 1/I
CODE_LENGTH = 6
SEATS_PER_TEAM = 12
STATUSES = ("lobby", "open", "paused", "ended")
log = logging.getLogger(__name__)


class RoomError(Exception):
    """A request the room refuses; `code` is the protocol's error code, the message is for
    a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Seat:
    number: int
    team: str
    token: str
    connected: int = 0  # open connections using it (the overview shows who is here)


@dataclass
class Submission:
    id: str
    orders: list[Order]


@dataclass(frozen=True)
class Change:
    """What changed: `teams` whose `state` may differ now, and seats whose pages must be told
    (token -> the token, for a seat moved to another team; -> None, freed: it stopped
    working). The
    facilitator's overview is worth sending after every change."""

    kind: str
    teams: frozenset[str] = frozenset()
    freed: tuple[tuple[str, str | None], ...] = ()


@dataclass
class _Turn:
    drafts: dict[str, list[Order]] = field(default_factory=dict)
    submitted: dict[str, Submission] = field(default_factory=dict)
    seen: dict[tuple[str, str], list[Order]] = field(default_factory=dict)  # (team, id)
    opened: float = 0.0


def dropped_notice(turn: int, exc: CommandError) -> str:
    """What a team reads when its submitted orders could not be applied: the world changed
    between its submission and the turn's end (an event the facilitator brought in)."""
    why = "; ".join(p.message for p in exc.problems)
    return (
        f"Your orders for turn {turn} were not applied: {why}. The world changed after you "
        "submitted (an event), so nothing of yours changed this turn; look at your levers "
        "and submit again."
    )


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Room:
    """One game played by teams from browsers; see the module docstring."""

    def __init__(
        self,
        session: GameSession,
        *,
        code: str | None = None,
        key: str | None = None,
        persist: Callable[[Room], None] | None = None,
    ) -> None:
        self.session = session
        self.code = code or new_code()
        self.key = key or secrets.token_urlsafe(24)
        self.status = "lobby"
        self.seats: dict[str, Seat] = {}  # token -> seat
        self.resolved: list[int] = []  # turns resolved, in order
        self.resolved_at: list[float] = []  # when (time.monotonic), for latency figures
        self.report_ready = False
        self.join_url: str | None = None  # set by the server that serves it
        self.persist = persist
        self.save_error: str | None = None
        self.lock = threading.RLock()
        self._next_seat = 1
        self._paused_from = "open"
        self._turn = _Turn()
        # team -> why its orders were not applied in the turn just resolved (told on its page
        # until the next turn resolves): a team that submitted must never find out by guessing
        self.notices: dict[str, str] = {}
        self._world_version = 0
        self._cache: dict[str, tuple[int, dict[str, Any]]] = {}
        self._listeners: list[Callable[[Change], None]] = []

    # ------------------------------------------------------------------ facts
    @property
    def teams(self) -> list[str]:
        return list(self.session.roles)

    @property
    def turn(self) -> int:
        """The open turn's number (1 for the first; while in the lobby, the coming one)."""
        return len(self.resolved) + 1

    @property
    def turns(self) -> int:
        """Turns in all: those resolved and those the months left make."""
        s = self.session
        left = max(0, s.model.horizon - s.model.turn)
        return len(self.resolved) + math.ceil(left / s.turn_months)

    def check_key(self, key: Any) -> bool:
        """The facilitator's key, compared in constant time."""
        return isinstance(key, str) and secrets.compare_digest(key.encode(), self.key.encode())

    def seat(self, token: Any) -> Seat | None:
        if not isinstance(token, str):
            return None
        with self.lock:
            return self.seats.get(token)

    def seat_counts(self) -> dict[str, int]:
        with self.lock:
            counts = dict.fromkeys(self.teams, 0)
            for s in self.seats.values():
                counts[s.team] += 1
            return counts

    # ------------------------------------------------------------------ listeners
    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call `listener(change)` after every change, from the thread that made it; returns
        the function that unsubscribes."""
        with self.lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self.lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, change: Change) -> None:
        with self.lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(change)
            except Exception:  # one broken listener must not stop the class
                log.exception("room listener failed")

    def _save(self) -> None:
        if self.persist is None:
            return
        try:
            self.persist(self)
            self.save_error = None
        except Exception as exc:  # the class goes on; the overview says the save failed
            self.save_error = f"{type(exc).__name__}: {exc}"
            log.error("the room could not be saved: %s", self.save_error)

    # ------------------------------------------------------------------ seats
    def join(self, code: Any, team: str | None) -> Seat:
        """A new seat in `team` (None: the team with the fewest seats)."""
        with self.lock:
            self._check_code(code)
            self._refuse_if("paused", "ended")
            counts = self.seat_counts()
            if team is None:
                free = [t for t in self.teams if counts[t] < SEATS_PER_TEAM]
                if not free:
                    raise RoomError("full", "every team is full")
                team = min(free, key=lambda t: counts[t])
            elif team not in counts:
                raise RoomError(
                    "bad_message", f"no team '{team}' in this room: {', '.join(self.teams)}"
                )
            elif counts[team] >= SEATS_PER_TEAM:
                raise RoomError("full", f"team {team} has its {SEATS_PER_TEAM} seats")
            seat = Seat(self._next_seat, team, secrets.token_urlsafe(18))
            self._next_seat += 1
            self.seats[seat.token] = seat
            self._save()
        self._emit(Change("join", frozenset({team})))
        return seat

    def rejoin(self, code: Any, token: Any) -> Seat:
        """The seat a token holds (a page reloaded or reconnected); allowed while paused."""
        with self.lock:
            self._check_code(code)
            seat = self.seat(token)
            if seat is None:
                raise RoomError("token", "this seat is no longer in the room: join again")
            return seat

    def connected(self, token: str, on: bool) -> None:
        """A connection started or stopped using a seat (for the overview only)."""
        with self.lock:
            seat = self.seats.get(token)
            if seat is None:
                return
            seat.connected = max(0, seat.connected + (1 if on else -1))
        self._emit(Change("presence"))

    def move_seat(self, number: Any, team: Any) -> Seat:
        """The facilitator moves a seat to another team: the same browser, so the token is
        kept but now speaks for the new team only (the page is told, and rejoins); what it
        drafted for its old team stays there."""
        with self.lock:
            seat = self._seat_numbered(number)
            if team not in self.teams:
                raise RoomError("value", f"no team '{team}': {', '.join(self.teams)}")
            if team != seat.team and self.seat_counts()[team] >= SEATS_PER_TEAM:
                raise RoomError("full", f"team {team} has its {SEATS_PER_TEAM} seats")
            old_team, seat.team = seat.team, team
            self._save()
            resolved = self._maybe_resolve()
        self._emit(
            Change("seat", frozenset({old_team, team}) | resolved, ((seat.token, seat.token),))
        )
        return seat

    def free_seat(self, number: Any) -> None:
        """The facilitator frees a seat: its token stops working, the page goes back to
        joining."""
        with self.lock:
            seat = self._seat_numbered(number)
            del self.seats[seat.token]
            self._save()
            resolved = self._maybe_resolve()
        self._emit(Change("seat", frozenset({seat.team}) | resolved, ((seat.token, None),)))

    def _seat_numbered(self, number: Any) -> Seat:
        found = [s for s in self.seats.values() if s.number == number]
        if isinstance(number, bool) or not found:
            raise RoomError("value", f"no seat number {number!r} in the room")
        return found[0]

    # ------------------------------------------------------------------ orders
    def draft(self, token: Any, turn: Any, orders: Sequence[Order]) -> Seat:
        """A seat's unsent orders, shared with its teammates."""
        with self.lock:
            seat = self._seat_or_refuse(token)
            self._check_turn(turn)
            self._turn.drafts[seat.team] = [dict(o) for o in orders]
        self._emit(Change("draft", frozenset({seat.team})))
        return seat

    def submit(
        self, token: Any, turn: Any, orders: Sequence[Order], sid: str
    ) -> tuple[list[Order], bool]:
        """A team's orders for the open turn, checked now: returns them as accepted and
        whether this id was seen before (acknowledged again, not applied again). The turn
        resolves when every team with a seat has submitted."""
        with self.lock:
            seat = self._seat_or_refuse(token)
            seen = self._turn.seen.get((seat.team, sid))
            if seen is not None and turn == self.turn and self.status == "open":
                return seen, True
            self._check_turn(turn)
            accepted = self._check_orders(seat.team, orders)
            self._turn.submitted[seat.team] = Submission(sid, accepted)
            self._turn.seen[(seat.team, sid)] = accepted
            self._save()
            teams = frozenset({seat.team}) | self._maybe_resolve()
        self._emit(Change("submit", teams))
        return accepted, False

    def _check_orders(self, team: str, orders: Sequence[Order]) -> list[Order]:
        mine = {lv.id for lv in self.session.levers(team)}
        for o in orders:
            if "adopt" not in o and o.get("lever") not in mine:
                raise RoomError(
                    "lever",
                    f"'{o.get('lever')}' is not one of your team's levers: "
                    + ", ".join(sorted(mine)),
                )
        try:
            return self.session.check_orders(team, orders)
        except CommandError as exc:
            raise RoomError("value", "; ".join(p.message for p in exc.problems)) from None

    def _maybe_resolve(self) -> frozenset[str]:
        """Resolve the open turn if every seated team has submitted; the teams told."""
        if self.status != "open":
            return frozenset()
        seated = {s.team for s in self.seats.values()}
        if not seated or not seated <= set(self._turn.submitted):
            return frozenset()
        self._resolve()
        return frozenset(self.teams)

    def _resolve(self) -> None:
        orders = {t: s.orders for t, s in self._turn.submitted.items()}
        notices: dict[str, str] = {}
        try:
            self.session.resolve_turn(orders)
        except CommandError:  # an order the world no longer allows: that team's are dropped
            for team in list(orders):
                try:
                    self.session.check_orders(team, orders[team])
                except CommandError as exc:
                    log.warning("turn %d: %s's orders dropped: %s", self.turn, team, exc)
                    orders[team] = NO_ORDERS
                    notices[team] = dropped_notice(self.turn, exc)
            self.session.resolve_turn(orders)
        self.notices = notices
        self.resolved.append(self.turn)
        self.resolved_at.append(time.monotonic())
        self._turn = _Turn(opened=time.monotonic())
        self._world_version += 1
        if self.session.finished:
            self.status = "ended"
        self._save()

    # ------------------------------------------------------------------ the facilitator
    def start(self) -> None:
        self._facilitate("start", ("lobby",), lambda: setattr(self, "status", "open"))

    def close_turn(self) -> None:
        """Resolve the open turn now, with the orders submitted so far."""
        self._facilitate("close_turn", ("open",), self._resolve)

    def pause(self) -> None:
        def pause() -> None:
            self._paused_from, self.status = self.status, "paused"

        self._facilitate("pause", ("lobby", "open"), pause)

    def resume(self) -> None:
        def resume() -> None:
            self.status = self._paused_from
            self._maybe_resolve()

        self._facilitate("resume", ("paused",), resume)

    def inject(self, event_id: Any) -> None:
        def inject() -> None:
            if event_id not in self.session.allowed_events:
                raise RoomError(
                    "value",
                    f"event {event_id!r} is not in this lesson: "
                    + ", ".join(self.session.allowed_events),
                )
            self.session.inject(event_id)
            self._world_version += 1

        self._facilitate("inject", ("lobby", "open", "paused"), inject)

    def reveal(self, hidden: Any) -> None:
        """Hide (True) or reveal (False) the teams' decisions from each other."""

        def reveal() -> None:
            if not isinstance(hidden, bool):
                raise RoomError("value", "expected hidden: true or false")
            self.session.set_hidden(hidden)
            self._world_version += 1

        self._facilitate("reveal", STATUSES, reveal)

    def end(self) -> None:
        self._facilitate(
            "end", ("lobby", "open", "paused"), lambda: setattr(self, "status", "ended")
        )

    def set_report_ready(self) -> None:
        """The debrief report is written: every seat's view links it."""
        with self.lock:
            self.report_ready = True
        self._emit(Change("report", frozenset(self.teams)))

    def _facilitate(self, kind: str, allowed: tuple[str, ...], act: Callable[[], Any]) -> None:
        with self.lock:
            if self.status not in allowed:
                raise RoomError("room", f"cannot {kind.replace('_', ' ')} while {self.status}")
            act()
            self._save()
        self._emit(Change(kind, frozenset(self.teams)))

    # ------------------------------------------------------------------ checks
    def _check_code(self, code: Any) -> None:
        if not isinstance(code, str) or code.strip().upper() != self.code:
            raise RoomError("room", "no room with this code here: check the code on the screen")

    def _refuse_if(self, *statuses: str) -> None:
        if self.status == "paused" and "paused" in statuses:
            raise RoomError("paused", "the game is paused: wait for the facilitator")
        if self.status == "ended" and "ended" in statuses:
            raise RoomError("ended", "the game is over: see the report")

    def _seat_or_refuse(self, token: Any) -> Seat:
        seat = self.seat(token)
        if seat is None:
            raise RoomError("token", "this seat is no longer in the room: join again")
        self._refuse_if("paused", "ended")
        return seat

    def _check_turn(self, turn: Any) -> None:
        if self.status == "lobby":
            raise RoomError("turn", "the game has not started yet")
        if isinstance(turn, bool) or turn != self.turn:
            raise RoomError("turn", f"turn {turn} is not open; turn {self.turn} is")

    # ------------------------------------------------------------------ views
    def view_for(self, team: str, token: str | None = None) -> dict[str, Any]:
        """A team's `state` (docs/classroom-protocol.md), JSON-able; `token` (a seat's) makes
        the report link once the report is ready."""
        with self.lock:
            cached = self._cache.get(team)
            if cached is None or cached[0] != self._world_version:
                cached = (self._world_version, world_part(self.session, team))
                self._cache[team] = cached
            counts = self.seat_counts()
            sub = self._turn.submitted.get(team)
            return {
                "room": self.code,
                "status": self.status,
                "turn": self.turn,
                "turns": self.turns,
                **cached[1],
                "draft": self._turn.drafts.get(team),
                "submitted": sub.orders if sub else None,
                "notice": self.notices.get(team),
                "teams": [
                    {
                        "id": t,
                        "name": self.session.role_of(t).name,
                        "seats": counts[t],
                        "submitted": t in self._turn.submitted,
                    }
                    for t in self.teams
                ],
                "report": (
                    f"/report?token={token}"
                    if token and self.status == "ended" and self.report_ready
                    else None
                ),
            }

    def overview(self) -> dict[str, Any]:
        """What the facilitator's page and the projector window show."""
        with self.lock:
            s = self.session
            return {
                "room": self.code,
                "join": self.join_url,
                "status": self.status,
                "turn": self.turn,
                "turns": self.turns,
                "date": s.view.date,
                "months_left": max(0, s.model.horizon - s.model.turn),
                "hidden": s.hidden,
                "teams": [
                    {
                        "id": t,
                        "name": s.role_of(t).name,
                        "submitted": t in self._turn.submitted,
                        "dropped": t in self.notices,
                        "seats": [
                            {"seat": x.number, "connected": x.connected > 0}
                            for x in sorted(self.seats.values(), key=lambda x: x.number)
                            if x.team == t
                        ],
                    }
                    for t in self.teams
                ],
                "events": event_menu(s),
                "injected": list(s.injected),
                "report": self.report_ready,
                "save_error": self.save_error,
            }

    # ------------------------------------------------------------------ saving
    def to_plain(self) -> dict[str, Any]:
        """The room without its game (store.py writes the game beside it)."""
        with self.lock:
            return {
                "code": self.code,
                "key": self.key,
                "status": self.status,
                "paused_from": self._paused_from,
                "next_seat": self._next_seat,
                "seats": [
                    {"number": s.number, "team": s.team, "token": s.token}
                    for s in self.seats.values()
                ],
                "resolved": list(self.resolved),
                "notices": dict(self.notices),
                "report_ready": self.report_ready,
                "turn": {
                    "drafts": self._turn.drafts,
                    "submitted": {
                        t: {"id": x.id, "orders": x.orders} for t, x in self._turn.submitted.items()
                    },
                    "seen": [
                        {"team": t, "id": i, "orders": o} for (t, i), o in self._turn.seen.items()
                    ],
                },
            }

    def restore_plain(self, plain: dict[str, Any]) -> None:
        """Take back what `to_plain` wrote (checked by store.py before)."""
        with self.lock:
            self.status = plain["status"]
            self._paused_from = plain["paused_from"]
            self._next_seat = plain["next_seat"]
            self.seats = {
                s["token"]: Seat(s["number"], s["team"], s["token"]) for s in plain["seats"]
            }
            self.resolved = list(plain["resolved"])
            self.notices = dict(plain.get("notices", {}))
            self.report_ready = bool(plain["report_ready"])
            turn = plain["turn"]
            self._turn = _Turn(
                drafts={t: list(o) for t, o in turn["drafts"].items()},
                submitted={
                    t: Submission(x["id"], list(x["orders"])) for t, x in turn["submitted"].items()
                },
                seen={(x["team"], x["id"]): list(x["orders"]) for x in turn["seen"]},
                opened=time.monotonic(),
            )
            self._world_version += 1
