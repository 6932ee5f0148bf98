"""The host over real WebSockets (uvicorn on a free port, the `websockets` client): joining,
rejoining, submitting, the resolution's broadcast, the facilitator's key, and refusals."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.net.helpers import CHINA_ORDER, US_ORDER, of_type, recv_until, send, served


def test_join_rejoin_submit_and_resolution(tmp_path: Path) -> None:
    server = served(tmp_path)
    room = server.room
    url = f"ws://127.0.0.1:{server.port}"

    async def play() -> None:
        async with connect(url + "/ws") as a, connect(url + "/ws") as b:
            async with connect(url + "/ws/facilitator") as f:
                await send(f, type="hello", key=room.key)
                await recv_until(f, of_type("overview"))
                await send(a, type="join", room=room.code, team="us")
                welcome = await recv_until(a, of_type("welcome"))
                await recv_until(a, of_type("state"))
                await send(b, type="join", room=room.code, team=None)
                assert (await recv_until(b, of_type("welcome")))["team"] == "china"
                await send(f, type="start")
                await recv_until(a, of_type("state", status="open"))
                await send(a, type="draft", turn=1, orders=[US_ORDER])
            # a reloaded page: a new connection rejoins with its token and finds its draft
            async with connect(url + "/ws") as a2:
                await send(a2, type="rejoin", room=room.code, token=welcome["token"])
                assert (await recv_until(a2, of_type("welcome")))["seat"] == welcome["seat"]
                state = await recv_until(a2, of_type("state"))
                assert state["draft"] == [US_ORDER]
                await send(a2, type="submit", turn=1, orders=[US_ORDER], id="s1")
                ack = await recv_until(a2, of_type("submitted"))
                assert ack["orders"] == [US_ORDER] and ack["id"] == "s1"
                await send(b, type="submit", turn=1, orders=[CHINA_ORDER], id="s2")
                after = await recv_until(a2, of_type("state", turn=2))
                assert after["submitted"] is None and after["date"] == "2022-12"
                assert any(t["id"] == "china" and not t["submitted"] for t in after["teams"])
                await recv_until(b, of_type("state", turn=2))

    try:
        asyncio.run(asyncio.wait_for(play(), 30))
        assert room.resolved == [1] and len(room.session.decisions) == 2
        saved = json.loads((tmp_path / "room.json").read_text())
        assert saved["resolved"] == [1] and saved["code"] == room.code
        page = httpx.get(f"http://127.0.0.1:{server.port}/api/room", params={"code": room.code})
        assert page.json()["teams"][0]["seats"] == 1
        wrong = httpx.get(f"http://127.0.0.1:{server.port}/api/room", params={"code": "XXXXXX"})
        assert wrong.status_code == 404 and "/" not in wrong.text.replace("/api", "")
        report = httpx.get(f"http://127.0.0.1:{server.port}/report", params={"token": "nope"})
        assert report.status_code == 403 and str(tmp_path) not in report.text
    finally:
        server.stop()
    assert not server.running


def test_facilitator_needs_the_key_not_a_student_token(tmp_path: Path) -> None:
    server = served(tmp_path)
    room = server.room
    seat = room.join(room.code, "us")
    url = f"ws://127.0.0.1:{server.port}/ws/facilitator"

    async def refused(key: str) -> dict:
        async with connect(url) as f:
            await send(f, type="hello", key=key)
            error = json.loads(await f.recv())
            try:
                await asyncio.wait_for(f.recv(), 5)
            except ConnectionClosed:
                return error
            raise AssertionError("the connection stayed open after a wrong key")

    async def check() -> None:
        for key in ("wrong", seat.token):
            assert (await refused(key))["code"] == "token"
        async with connect(url) as f:
            await send(f, type="start")  # a command before the key: refused, closed
            assert json.loads(await f.recv())["type"] == "error"
        assert room.status == "lobby"

    try:
        asyncio.run(asyncio.wait_for(check(), 30))
    finally:
        server.stop()


def test_refusals_leave_the_host_serving(tmp_path: Path) -> None:
    server = served(tmp_path)
    room = server.room
    url = f"ws://127.0.0.1:{server.port}/ws"

    async def check() -> None:
        async with connect(url) as a, connect(url) as b:
            await send(a, type="join", room=room.code, team="us")
            await recv_until(a, of_type("welcome"))
            await send(b, type="join", room=room.code, team="china")
            await recv_until(b, of_type("welcome"))
            room.start()
            await send(a, type="submit", turn=1, orders=[US_ORDER], id="s1")
            await recv_until(a, of_type("submitted"))
            await send(b, type="submit", turn=1, orders=[CHINA_ORDER], id="s2")
            await recv_until(a, of_type("state", turn=2))

            async def expect(raw: str, code: str) -> None:
                await a.send(raw)
                assert (await recv_until(a, of_type("error")))["code"] == code

            await expect("{not json", "bad_message")
            await expect("x" * (17 * 1024), "too_big")
            await expect(json.dumps({"type": "teleport"}), "bad_message")
            await expect(json.dumps({"type": "submit", "turn": 1, "orders": [US_ORDER], "id": "s1"}), "turn")  # noqa: E501
            other = {"type": "submit", "turn": 2, "orders": [CHINA_ORDER], "id": "s3"}
            await expect(json.dumps(other), "lever")
            await expect(json.dumps({**other, "turn": 7, "orders": [US_ORDER]}), "turn")
            big = {**other, "orders": [US_ORDER] * 41}
            await expect(json.dumps(big), "value")
            # still serving this page and the others
            await send(a, type="ping")
            await recv_until(a, of_type("pong"))
            # a flood: refused at the rate, then closed after 20 refusals in a row
            codes = []
            for _ in range(200):
                await a.send(json.dumps({"type": "ping"}))
            try:
                while True:
                    m = json.loads(await asyncio.wait_for(a.recv(), 5))
                    if m["type"] == "error":
                        codes.append(m["code"])
            except ConnectionClosed:
                pass
            assert codes.count("rate") == 20
            await send(b, type="ping")
            await recv_until(b, of_type("pong"))

    try:
        asyncio.run(asyncio.wait_for(check(), 30))
        assert room.resolved == [1] and len(room.session.decisions) == 2
    finally:
        server.stop()
