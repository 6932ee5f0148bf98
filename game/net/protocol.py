"""The messages of docs/classroom-protocol.md, checked before anything acts on them: a page is
a stranger on the school network, so every field's type and size is checked here and a
message that fails is refused with one `error`, never an exception in the server. Whether a
lever belongs to the team or a turn is open is the room's to say (room.py).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_BYTES = 16 * 1024
MAX_ORDERS = 40
RATE = 20.0  # messages a second per connection
BURST = 40
MAX_REFUSALS = 20  # refusals in a row before the connection is closed
MAX_ID = 64  # ids, tokens, lever, target and choice values
MAX_KEY = 128

STUDENT = {
    "join": {"room": "id", "team": "id?"},
    "rejoin": {"room": "id", "token": "id"},
    "draft": {"turn": "int", "orders": "orders"},
    "submit": {"turn": "int", "orders": "orders", "id": "id"},
    "ping": {},
}
FACILITATOR = {
    "hello": {"key": "key"},
    "start": {},
    "close_turn": {},
    "pause": {},
    "resume": {},
    "end": {},
    "inject": {"event": "id"},
    "reveal": {"hidden": "bool"},
    "move_seat": {"seat": "int", "team": "id"},
    "free_seat": {"seat": "int"},
    "ping": {},
}


class Refusal(Exception):
    """A message refused: `code` and a sentence for a person (the `error` sent back)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def reply(self) -> dict[str, str]:
        return {"type": "error", "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Message:
    type: str
    fields: dict[str, Any]


def parse(raw: str | bytes | None, kinds: dict[str, dict[str, str]]) -> Message:
    """One text frame -> a checked Message, or Refusal."""
    if raw is None:
        raise Refusal("bad_message", "expected a JSON text message")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
    if size > MAX_MESSAGE_BYTES:
        raise Refusal("too_big", f"a message may be at most {MAX_MESSAGE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refusal("bad_message", "expected one JSON object") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise Refusal("bad_message", "expected a JSON object with a 'type'")
    kind = data["type"]
    spec = kinds.get(kind)
    if spec is None:
        raise Refusal("bad_message", f"unknown message type; expected one of: {', '.join(kinds)}")
    extra = sorted(set(data) - set(spec) - {"type"})
    if extra:
        raise Refusal("bad_message", f"'{kind}' takes no field '{extra[0][:MAX_ID]}'")
    fields = {}
    for name, rule in spec.items():
        optional = rule.endswith("?")
        if name not in data:
            if not optional:
                raise Refusal("bad_message", f"'{kind}' needs the field '{name}'")
            fields[name] = None
            continue
        fields[name] = _field(kind, name, rule.rstrip("?"), data[name], optional)
    return Message(kind, fields)


def _field(kind: str, name: str, rule: str, value: Any, optional: bool) -> Any:
    where = f"'{kind}': '{name}'"
    if value is None and optional:
        return None
    if rule in ("id", "key"):
        limit = MAX_ID if rule == "id" else MAX_KEY
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise Refusal("bad_message", f"{where} expected text of 1 to {limit} characters")
        return value
    if rule == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**6:
            raise Refusal("bad_message", f"{where} expected a whole number")
        return value
    if rule == "bool":
        if not isinstance(value, bool):
            raise Refusal("bad_message", f"{where} expected true or false")
        return value
    return orders(value)


def orders(value: Any) -> list[dict[str, Any]]:
    """A list of orders, each {lever, target, value} or {adopt}; shapes and value types only."""
    if not isinstance(value, list):
        raise Refusal("bad_message", "expected 'orders': a list")
    if len(value) > MAX_ORDERS:
        raise Refusal("value", f"at most {MAX_ORDERS} orders, got {len(value)}")
    out = []
    for i, o in enumerate(value):
        if not isinstance(o, dict):
            raise Refusal("bad_message", f"order {i + 1}: expected an object")
        if set(o) == {"adopt"}:
            n = o["adopt"]
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 10**4:
                raise Refusal("value", f"order {i + 1}: expected a proposal's number")
            out.append({"adopt": n})
            continue
        if set(o) - {"lever", "target", "value"} or "lever" not in o or "value" not in o:
            raise Refusal("bad_message", f"order {i + 1}: expected lever, target and value")
        lever, target, v = o["lever"], o.get("target"), o["value"]
        if not isinstance(lever, str) or not 0 < len(lever) <= MAX_ID:
            raise Refusal("lever", f"order {i + 1}: expected a lever id")
        if target is not None and (not isinstance(target, str) or not 0 < len(target) <= MAX_ID):
            raise Refusal("value", f"order {i + 1}: expected a target id or null")
        if isinstance(v, float) and not math.isfinite(v):
            raise Refusal("value", f"order {i + 1}: expected a finite number")
        if not isinstance(v, bool | int | float | str) or (
            isinstance(v, str) and len(v) > MAX_ID
        ):
            raise Refusal("value", f"order {i + 1}: expected a number, true/false or a choice")
        out.append({"lever": lever, "target": target, "value": v})
    return out


class TokenBucket:
    """RATE messages a second with bursts of BURST: a page that floods is refused, not the
    class."""

    def __init__(
        self, rate: float = RATE, burst: int = BURST, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.last = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
