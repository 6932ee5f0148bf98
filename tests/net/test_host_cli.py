"""`python main.py host` as a teacher runs it: bad input says what is wrong in one line and
exits 2 with nothing written; a started host prints how to join, serves the join page, stops
cleanly on SIGTERM with no process left, and started again on its folder resumes the same
room (same code, same seats)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT, run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lesson", "nope"], "nope"),
        (["--lesson", "role_play", "--port", "99999"], "port"),
        (["--lesson", "role_play", "--size", "10x10"], "--size"),
        (["--lesson", "role_play", "--bind", "203.0.113.7"], "203.0.113.7"),
        (["historical"], "--roles"),
        (["--lesson", "role_play", "historical"], "lesson"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(args, says, tmp_path: Path) -> None:
    room_dir = tmp_path / "room"
    res = run_cli("host", *args, "--room-dir", room_dir, "--no-window", timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert says in res.stderr and "Traceback" not in res.stderr
    assert not room_dir.exists() or not any(room_dir.iterdir())  # nothing half-made


def test_a_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = run_cli(
            "host",
            "--lesson",
            "role_play",
            "--port",
            port,
            "--room-dir",
            tmp_path / "r",
            "--no-window",
            timeout=120,
        )
    assert res.returncode == 2 and str(port) in res.stderr and "Traceback" not in res.stderr


def _start(room_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    return subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "host",
            "--lesson",
            "role_play",
            "--port",
            str(port),
            "--room-dir",
            str(room_dir),
            "--no-window",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 90) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if re.search(pattern, seen):
            return seen
    proc.kill()
    raise AssertionError(
        f"never printed {pattern!r}: {seen}{proc.stderr.read() if proc.stderr else ''}"
    )


def test_host_serves_stops_on_sigterm_and_resumes_the_same_room(tmp_path: Path) -> None:
    room_dir, port = tmp_path / "room", _free_port()
    proc = _start(room_dir, port)
    try:
        out = _read_until(proc, r"Serving\.")
        code = re.search(r"Room code: (\w+)", out).group(1)
        assert f"http://127.0.0.1:{port}/?room={code}" in out
        assert "Facilitator (keep it to yourself)" in out and "#key=" in out
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/?room={code}", timeout=10).read()
        assert b"<html" in page.lower()
        teams = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/room?code={code}"))
        assert [t["id"] for t in teams["teams"]] == ["us", "vendor", "china", "lab", "transit"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    saved = json.loads((room_dir / "room.json").read_text())
    assert saved["code"] == code

    again = _start(room_dir, port)
    try:
        out = _read_until(again, r"Serving\.")
        assert f"Resumed {code}" in out and f"Room code: {code}" in out
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=30) == 0
    finally:
        if again.poll() is None:
            again.kill()
    with socket.socket() as s:  # nothing listens there any more: nothing outlived the command
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past closed connections
        s.bind(("127.0.0.1", port))
        s.listen()
