"""The classroom host's web app (Starlette): the pages, the students' and the facilitator's
WebSockets, the join page's room lookup and the debrief report (docs/classroom-protocol.md).

Room methods run in worker threads (`asyncio.to_thread`): a turn's resolution plays months
and saves the game, which must not stall every other page's messages. Each connection
sends through its own queue and writer task, so a reply and a broadcast never interleave on
one socket, and a page that stops reading is dropped rather than buffered without end.
Broadcasts are coalesced: changes mark teams dirty, one task sends the teams' states.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from game.net.protocol import (
    FACILITATOR,
    MAX_REFUSALS,
    STUDENT,
    Message,
    Refusal,
    TokenBucket,
    parse,
)
from game.net.room import SEATS_PER_TEAM, Change, Room, RoomError
from game.reports.debrief import write_report

STATIC = Path(__file__).parent / "static"
QUEUE_LIMIT = 256  # messages waiting for one page before it is dropped as stuck
HELLO_SECONDS = 10.0
PLACEHOLDER = (
    "<!doctype html><meta charset=utf-8><title>Silicon Curtain</title>"
    "<p>The classroom page ({name}) is not in this build of the game.</p>"
)
log = logging.getLogger(__name__)


class Conn:
    """One WebSocket: its writer queue, rate limit, refusals in a row and seat."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_LIMIT)
        self.bucket = TokenBucket()
        self.refusals = 0
        self.token: str | None = None
        self.team: str | None = None

    def send(self, msg: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(msg)
        except asyncio.QueueFull:  # the page stopped reading
            self.close()

    def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    async def pump(self) -> None:
        while (msg := await self.queue.get()) is not None:
            await self.ws.send_text(json.dumps(msg))
        await self.ws.close(code=1008)


class Hub:
    """The connections of one room, and what is sent to them when the room changes."""

    def __init__(self, room: Room, report_path: Path) -> None:
        self.room = room
        self.report_path = report_path
        self.students: set[Conn] = set()
        self.facilitators: set[Conn] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._dirty: set[str] = set()
        self._flushing = False
        self._report_task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.loop = asyncio.get_running_loop()
        loop = self.loop
        self._unsubscribe = self.room.subscribe(
            lambda change: loop.call_soon_threadsafe(self._changed, change)
        )
        if self.room.status == "ended" and not self.room.report_ready:
            self._changed(Change("end"))
        try:
            yield
        finally:
            self._unsubscribe()
            for conn in self.students | self.facilitators:
                conn.close()

    # ------------------------------------------------------------------ broadcasting
    def _changed(self, change: Change) -> None:
        for old, new in change.freed:
            for conn in [c for c in self.students if c.token == old]:
                if new is None:
                    conn.token = None
                conn.team = None  # told again on rejoin
                conn.send({"type": "freed"})
        self._dirty |= change.teams
        if not self._flushing:
            self._flushing = True
            asyncio.ensure_future(self._flush())
        if self.room.status == "ended" and not self.room.report_ready and self._report_task is None:
            self._report_task = asyncio.ensure_future(self._write_report())

    async def _flush(self) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # let the changes of the same moment gather
                teams, self._dirty = self._dirty, set()
                wanted = {c.team for c in self.students if c.team in teams}
                views = await asyncio.to_thread(self._views, wanted)
                ready = self.room.report_ready
                for conn in list(self.students):
                    if conn.team in views and conn.token is not None:
                        conn.send(_with_report(views[conn.team], conn.token, ready))
                if self.facilitators:
                    overview = await asyncio.to_thread(self.room.overview)
                    for conn in list(self.facilitators):
                        conn.send({"type": "overview", **overview})
                if not self._dirty:
                    break
        finally:
            self._flushing = False

    def _views(self, teams: set[str | None]) -> dict[str, dict[str, Any]]:
        return {t: {"type": "state", **self.room.view_for(t)} for t in teams if t is not None}

    async def _write_report(self) -> None:
        try:
            await asyncio.to_thread(write_report, self.room.session, self.report_path, futures=0)
        except Exception:
            log.exception("the debrief report could not be written")
            return
        await asyncio.to_thread(self.room.set_report_ready)

    async def _state(self, conn: Conn) -> None:
        if conn.team is not None and conn.token is not None:
            view = await asyncio.to_thread(self.room.view_for, conn.team, conn.token)
            conn.send({"type": "state", **view})

    # ------------------------------------------------------------------ sockets
    async def serve(self, ws: WebSocket, facilitator: bool) -> None:
        await ws.accept()
        conn = Conn(ws)
        writer = asyncio.ensure_future(conn.pump())
        kinds = FACILITATOR if facilitator else STUDENT
        handle = self._facilitator_message if facilitator else self._student_message
        try:
            while not writer.done():
                timeout = HELLO_SECONDS if facilitator and conn not in self.facilitators else None
                try:
                    event = await asyncio.wait_for(ws.receive(), timeout)
                except TimeoutError:
                    break
                if event["type"] == "websocket.disconnect":
                    break
                try:
                    if not conn.bucket.take():
                        raise Refusal("rate", "too many messages: slow down")
                    await handle(conn, parse(event.get("text"), kinds))
                    conn.refusals = 0
                except (Refusal, RoomError) as exc:
                    conn.refusals += 1
                    conn.send({"type": "error", "code": exc.code, "message": exc.message})
                    if facilitator and conn not in self.facilitators:
                        break  # no second guess at the key
                    if conn.refusals >= MAX_REFUSALS:
                        break
        finally:
            self.students.discard(conn)
            self.facilitators.discard(conn)
            if conn.token is not None:
                await asyncio.to_thread(self.room.connected, conn.token, False)
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 2.0)
            writer.cancel()

    async def _student_message(self, conn: Conn, msg: Message) -> None:
        f, room = msg.fields, self.room
        if msg.type == "ping":
            conn.send({"type": "pong"})
        elif msg.type in ("join", "rejoin"):
            if msg.type == "join":
                seat = await asyncio.to_thread(room.join, f["room"], f["team"])
            else:
                seat = await asyncio.to_thread(room.rejoin, f["room"], f["token"])
            if conn.token is not None and conn.token != seat.token:
                await asyncio.to_thread(room.connected, conn.token, False)
            if conn.token != seat.token:
                await asyncio.to_thread(room.connected, seat.token, True)
            conn.token, conn.team = seat.token, seat.team
            self.students.add(conn)
            conn.send(
                {
                    "type": "welcome",
                    "token": seat.token,
                    "team": seat.team,
                    "team_name": room.session.role_of(seat.team).name,
                    "seat": seat.number,
                    "room": room.code,
                }
            )
            await self._state(conn)
        elif conn.token is None:
            raise Refusal("token", "join the room first")
        elif msg.type == "draft":
            await asyncio.to_thread(room.draft, conn.token, f["turn"], f["orders"])
        elif msg.type == "submit":
            accepted, _ = await asyncio.to_thread(
                room.submit, conn.token, f["turn"], f["orders"], f["id"]
            )
            conn.send({"type": "submitted", "turn": f["turn"], "id": f["id"], "orders": accepted})

    async def _facilitator_message(self, conn: Conn, msg: Message) -> None:
        room = self.room
        if conn not in self.facilitators:
            if msg.type != "hello" or not room.check_key(msg.fields.get("key")):
                raise Refusal("token", "expected the facilitator's key first")
            self.facilitators.add(conn)
            conn.send({"type": "overview", **await asyncio.to_thread(room.overview)})
            return
        f = msg.fields
        actions: dict[str, Callable[[], Any]] = {
            "start": room.start,
            "close_turn": room.close_turn,
            "pause": room.pause,
            "resume": room.resume,
            "end": room.end,
            "inject": lambda: room.inject(f["event"]),
            "reveal": lambda: room.reveal(f["hidden"]),
            "move_seat": lambda: room.move_seat(f["seat"], f["team"]),
            "free_seat": lambda: room.free_seat(f["seat"]),
            "ping": lambda: conn.send({"type": "pong"}),
            "hello": lambda: None,
        }
        await asyncio.to_thread(actions[msg.type])


def _with_report(view: dict[str, Any], token: str, ready: bool) -> dict[str, Any]:
    """A team's view with this seat's report link (the link carries the seat's token)."""
    if view.get("status") == "ended" and ready:
        return {**view, "report": f"/report?token={token}"}
    return view


def create_app(room: Room, report_path: Path) -> Starlette:
    """The app serving `room`; its report is written to `report_path` when the game ends."""
    hub = Hub(room, Path(report_path))

    async def page(request: Request) -> Response:
        name = "facilitator.html" if request.url.path.startswith("/facilitator") else "index.html"
        if not (STATIC / name).is_file():  # the pages are not installed: say so, briefly
            return HTMLResponse(PLACEHOLDER.format(name=name), status_code=503)
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})

    async def room_info(request: Request) -> Response:
        code = request.query_params.get("code", "")
        if code.strip().upper() != room.code:
            return JSONResponse({"error": "no room with this code here"}, status_code=404)
        counts = room.seat_counts()
        return JSONResponse(
            {
                "room": room.code,
                "status": room.status,
                "teams": [
                    {
                        "id": t,
                        "name": room.session.role_of(t).name,
                        "seats": counts[t],
                        "full": counts[t] >= SEATS_PER_TEAM,
                    }
                    for t in room.teams
                ],
            }
        )

    async def report(request: Request) -> Response:
        if room.seat(request.query_params.get("token")) is None:
            return JSONResponse({"error": "no seat with this token"}, status_code=403)
        if not (room.status == "ended" and room.report_ready):
            return JSONResponse({"error": "the report is not ready yet"}, status_code=404)
        return FileResponse(hub.report_path, media_type="text/html")

    async def students(ws: WebSocket) -> None:
        await hub.serve(ws, facilitator=False)

    async def facilitator(ws: WebSocket) -> None:
        await hub.serve(ws, facilitator=True)

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/facilitator", page),
            Route("/api/room", room_info),
            Route("/report", report),
            WebSocketRoute("/ws", students),
            WebSocketRoute("/ws/facilitator", facilitator),
            Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
        ],
        lifespan=hub.lifespan,
    )
    app.state.hub = hub
    return app
