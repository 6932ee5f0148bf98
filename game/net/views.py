"""What a team's page and the facilitator see of a room, as plain JSON-able data
(docs/classroom-protocol.md, `state` and `overview`).

The world's part of a team's view (levers, news, charts, score) only changes when the world
does, so it is built once per world version and team: a draft typed by one seat sends its
teammates a `state`, and forty seats drafting must not rebuild forty charts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from game.config.events import event

if TYPE_CHECKING:
    from game.play.session import GameSession

NEWS_ITEMS = 12
NO_ORDERS: list[dict[str, Any]] = []


def plain(value: Any) -> Any:
    """numpy values -> Python ones, and NaN or infinity -> None: JSON has neither."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def world_part(session: GameSession, team: str) -> dict[str, Any]:
    """The parts of a team's `state` that only the world changes."""
    role = session.role_of(team)
    score = session.score(team)
    return {
        "team": {
            "id": team,
            "name": role.name,
            "goal": role.objective,
            "situation": role.situation,
            "watch": role.watch,
        },
        "date": session.view.date,
        "months_left": max(0, session.model.horizon - session.model.turn),
        "levers": levers(session, team),
        "proposals": [
            {
                "id": session.proposals.index(p),
                "date": p.date,
                "text": p.news or session.view.describe(p.change),
            }
            for p in session.due_proposals(team)
        ],
        "news": [
            {"date": n.get("date"), "kind": n.get("kind"), "text": n.get("text")}
            for n in session.news(NEWS_ITEMS, team)
        ],
        "charts": charts(session),
        "score": {
            "value": plain(float(score.value)),
            "target": plain(float(score.target)),
            "text": score.text,
            "met": bool(score.met),
        },
    }


def levers(session: GameSession, team: str) -> list[dict[str, Any]]:
    """A team's levers with the lines its panel shows and each line's value in force."""
    out = []
    policy = session.model.policy
    for lv in session.levers(team):
        choices = session.view.rule_ids if lv.choices == "rule_versions" else lv.choices
        out.append(
            {
                "id": lv.id,
                "name": lv.name,
                "says": lv.says,
                "kind": lv.kind,
                "range": list(lv.range) if lv.range is not None else None,
                "unit": lv.unit,
                "choices": list(choices) if choices is not None else None,
                "targets": [
                    {"id": t, "name": name, "value": plain(policy.get(lv.id, t))}
                    for t, name in session.lever_rows(lv.id, team)
                ],
            }
        )
    return out


def charts(session: GameSession) -> dict[str, Any]:
    """Monthly series for the page's charts: each bloc's frontier capability, and China's
    gap in months and gray-market chip price."""
    view = session.view
    china = view.target_bloc
    capability = view.series("frontier_capability")
    return {
        "dates": view.dates(),
        "capability": {b: plain(v) for b, v in capability.items()},
        "gap_months": plain(view.series("gap_months").get(china, np.zeros(0))),
        "gray_price": plain(view.series("gray_price_usd").get(china, np.zeros(0))),
    }


def event_menu(session: GameSession) -> list[dict[str, str]]:
    """The events the facilitator may inject, with the names the overview shows."""
    out = []
    for ev_id in session.allowed_events:
        ev = event(ev_id)
        out.append({"id": ev.id, "name": ev.name, "headline": ev.headline})
    return out
