"""The classroom host under a class: 40 WebSocket seats in 5 teams play the role-play
lesson (12 turns of 4 months) against a real uvicorn host in this process. Prints each
turn's resolution latency (last order sent -> the new turn seen by a page), p50 and max,
the whole class's time and the process's resident memory.

    PYTHONPATH=. python benchmarks/bench_host.py [--clients 40]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from game.config.lesson import load_lesson
from game.net.room import Room
from game.net.server import HostServer
from game.net.store import RoomStore
from game.play.session import GameSession
from tests.net.load import play_class, rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = RoomStore(Path(tmp))
        room = Room(GameSession.from_lesson(load_lesson("role_play")), persist=store.save)
        server = HostServer(room, "127.0.0.1", 0, report_path=store.report_path)
        server.start()
        try:
            before = rss_mb()
            figures = asyncio.run(play_class(server, args.clients))
            after = rss_mb()
        finally:
            server.stop()
    ms = [1000 * x for x in figures.latencies]
    print(f"{args.clients} seats, {len(ms)} turns in {figures.seconds:.1f} s")
    print(f"resolution latency: p50 {figures.quantile(0.5) * 1000:.0f} ms, max {max(ms):.0f} ms")
    print("per turn (ms): " + " ".join(f"{x:.0f}" for x in ms))
    print(f"RSS: {before:.0f} MB before the class, {after:.0f} MB after")
    print(f"refused (expected: late retries and drafts): {dict(figures.refused)}")


if __name__ == "__main__":
    main()
