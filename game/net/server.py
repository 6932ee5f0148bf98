"""The classroom host's web server: uvicorn serving the room's app in a daemon thread, so
that the command's main thread is free for the projector window (or for waiting on Ctrl-C).

The listening socket is bound here, in the caller's thread, before uvicorn starts: a port in
use or an address not on this machine is then an InputError the command prints, not a
uvicorn log line and a thread that dies quietly. Port 0 picks a free port.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from pathlib import Path

import uvicorn

from game.config.errors import InputError, Problem
from game.net.app import create_app
from game.net.room import Room

# uvicorn refuses larger frames outright (closing the connection); the protocol's own 16 KiB
# limit is checked on every message below this, so a message a little too big is answered
# with `too_big` and the connection keeps serving (docs/classroom-protocol.md).
WS_MAX_SIZE = 64 * 1024
START_SECONDS = 15.0


class HostServer:
    """Serves one room at http://bind:port; `start()` returns once it listens."""

    def __init__(
        self, room: Room, bind: str = "127.0.0.1", port: int = 8765, *, report_path: Path
    ) -> None:
        self.room = room
        self.bind = bind
        self.port = int(port)
        self.report_path = Path(report_path)
        self.app = create_app(room, self.report_path)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ addresses
    @property
    def host(self) -> str:
        """The address pages reach: the bound one, or this machine's on the network when
        bound to every interface."""
        if self.bind in ("0.0.0.0", "::", ""):
            return _lan_address()
        return self.bind

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def join_url(self) -> str:
        """What students open (and the QR code holds): the join page with the code filled."""
        return f"{self.base_url}/?room={self.room.code}"

    @property
    def facilitator_url(self) -> str:
        """The facilitator's page; the key rides in the fragment, which no server logs."""
        return f"{self.base_url}/facilitator#key={self.room.key}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Bind, then serve in a daemon thread; InputError if the address cannot be used."""
        sock = _bind(self.bind, self.port)
        self.port = sock.getsockname()[1]
        self.room.join_url = self.join_url
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            ws_max_size=WS_MAX_SIZE,
            timeout_graceful_shutdown=3,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="host-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise InputError(Problem("the web server did not start", key="--port"))
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the connections and stop serving; returns when the thread has ended."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> HostServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(bind: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(bind, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise InputError(
            Problem(f"'{bind}' is not an address of this machine", key="--bind")
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                Problem(f"port {port} is in use: choose another with --port", key="--port")
            ) from None
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            raise InputError(
                Problem(f"'{bind}' is not an address of this machine", key="--bind")
            ) from None
        raise InputError(
            Problem(f"cannot listen on {bind}:{port} ({exc.strerror or exc})", key="--port")
        ) from None
    sock.set_inheritable(True)
    return sock


def _lan_address() -> str:
    """This machine's address on its network (no packet is sent: a UDP socket's route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only looked up
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"
