"""A class over WebSockets: seats in teams play a whole lesson against a real host, each
team's first seat submitting one order a turn (twice, as a page retrying would), the others
drafting and pinging. Used by test_load.py and benchmarks/bench_host.py."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect

from game.net.server import HostServer

ORDERS = {  # team -> (lever, target, value for turn t)
    "us": ("enforcement", None, lambda t: round(1.0 + 0.1 * t, 3)),
    "china": ("domestic_subsidy", None, lambda t: round(0.05 * t, 3)),
    "vendor": ("make_compliant_variants", "nvidia", lambda t: t % 2 == 1),
    "lab": ("risk_appetite", "deepseek", lambda t: round(0.1 + 0.05 * t, 3)),
    "transit": ("transit_customs", "singapore", lambda t: round(0.5 + 0.1 * t, 3)),
}


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)  # per turn: last order -> new turn seen
    refused: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def quantile(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def order(team: str, turn: int) -> dict[str, Any]:
    lever, target, value = ORDERS[team]
    return {"lever": lever, "target": target, "value": value(turn)}


async def play_class(server: HostServer, clients: int = 40) -> Figures:
    room = server.room
    teams = room.teams
    url = f"ws://127.0.0.1:{server.port}/ws"
    figures = Figures()
    joined = 0
    all_joined = asyncio.Event()
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}
    t0 = time.perf_counter()

    async def seat(i: int) -> None:
        nonlocal joined
        team, leader = teams[i % len(teams)], i < len(teams)
        async with connect(url, max_size=2**22) as ws:
            latest: dict[str, Any] = {}

            async def until(pred: Any) -> None:
                while not (latest and pred(latest)):
                    msg = json.loads(await ws.recv())
                    if msg["type"] == "state":
                        latest.clear()
                        latest.update(msg)
                    elif msg["type"] == "error":
                        figures.refused[msg["code"]] += 1

            await ws.send(json.dumps({"type": "join", "room": room.code, "team": team}))
            await until(lambda s: True)
            joined += 1
            if joined == clients:
                all_joined.set()
            await all_joined.wait()
            for turn in range(1, room.turns + 1):
                await until(lambda s, t=turn: s["status"] == "open" and s["turn"] >= t)
                if leader:
                    sub = {"type": "submit", "turn": turn, "orders": [order(team, turn)]}
                    sub["id"] = f"{team}-{turn}"
                    await ws.send(json.dumps(sub))
                    sent[turn] = max(sent.get(turn, 0.0), time.perf_counter())
                    await ws.send(json.dumps(sub))  # a page retrying: not applied twice
                else:
                    draft = {"type": "draft", "turn": turn, "orders": [order(team, turn)]}
                    await ws.send(json.dumps(draft))
                    await ws.send(json.dumps({"type": "ping"}))
                await until(lambda s, t=turn: s["turn"] > t or s["status"] == "ended")
                seen.setdefault(turn, time.perf_counter())

    tasks = [asyncio.ensure_future(seat(i)) for i in range(clients)]
    while not all_joined.is_set():
        await asyncio.sleep(0.01)
        for t in tasks:
            if t.done() and t.exception():
                raise t.exception()  # type: ignore[misc]
    await asyncio.to_thread(room.start)
    await asyncio.gather(*tasks)
    figures.latencies = [seen[t] - sent[t] for t in sorted(sent)]
    figures.seconds = time.perf_counter() - t0
    return figures


def initial_values(room: Any) -> dict[str, Any]:
    """Each team's lever as the game starts (an order equal to it makes no decision)."""
    policy = room.session.model.policy
    return {t: policy.get(ORDERS[t][0], ORDERS[t][1]) for t in room.teams}


def expected_decisions(room: Any, initial: dict[str, Any]) -> Counter[tuple[str, str, str, Any]]:
    """(role, lever, effective month, value) of every order that changed a lever."""
    from game.config.dates import format_month

    session = room.session
    out: Counter[tuple[str, str, str, Any]] = Counter()
    for team in room.teams:
        lever, target, value = ORDERS[team]
        now = initial[team]
        for turn in range(1, room.turns + 1):
            v = value(turn)
            if v != now:
                month = session.model.start + (turn - 1) * session.turn_months
                out[(team, lever, format_month(month), v)] += 1
            now = v
    return out


def rss_mb() -> float:
    """This process's resident memory (the host runs in it)."""
    try:
        import psutil

        return psutil.Process(os.getpid()).memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        return kb / 1024
