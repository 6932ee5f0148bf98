"""The timeline of a game: every decision and facilitator's event, and as much of the world's
news as fits on about two printed pages, the news that changed the story first.

Why the weighting: a game's news is mostly training runs (a bloc beating its own record by a
point) and, under enforcement, a smuggling ring caught every month. Shown in full they bury
the rule changes and shocks a class discusses, so each item is weighed by what it changed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from game.play.objectives import CHINA_BLOC, ROLES
from game.play.session import GameSession
from game.reports.debrief.story import decision_text, effect_text, join_words
from game.reports.debrief.table import finite
from game.reports.format import count
from game.sim.model import ChipWarModel

MAX_TIMELINE_ROWS = 60  # about two printed pages: more stops being read

KIND_LABELS = {
    "policy": "rule change",
    "shock": "shock",
    "training_run": "training run",
    "broker_caught": "smuggling",
    "variant_released": "new chip",
    "variant_design": "chip design",
    "remote_access": "cloud access",
    "distillation_caught": "distillation",
}
LEFT_OUT_WORDS = {
    "policy": "rule changes",
    "shock": "shocks",
    "training_run": "training runs",
    "broker_caught": "smuggling rings caught",
    "variant_released": "new chips",
    "variant_design": "chip designs started",
    "remote_access": "cloud-access cuts",
    "distillation_caught": "labs caught distilling",
}
# How much a news item matters to the story, when the timeline has to leave some out.
KIND_WEIGHT = {
    "policy": 100,
    "shock": 90,
    "variant_released": 80,
    "remote_access": 75,
    "distillation_caught": 60,
    "broker_caught": 25,
    "variant_design": 40,
    "training_run": 10,
}
LEAD_CHANGE_WEIGHT = 70  # a training run that makes its bloc the world's leader
CHINA_RECORD_WEIGHT = 50  # China's best model of a year
YEAR_BEST_WEIGHT = 30  # another bloc's best model of a year
BIG_CATCH_WEIGHT = 55  # the largest seizure of a year
MINOR_WEIGHT = 10  # news never shown (a bloc's training runs that are not the year's best)
_CAPABILITY = re.compile(r"capability (-?\d+(?:\.\d+)?)")
_CHIPS = re.compile(r"(\d[\d,]*) (?:\S+ )?chips")


@dataclass
class Row:
    date: str
    order: int  # decisions and events keep their order within a month
    kind: str  # "decision" | "facilitator" | "world"
    who: str
    what: str  # plain text
    effect: str
    weight: int = 0
    news: str = ""  # the news item's kind, for world rows
    lever: str = ""  # a decision's lever id, for a reader who looks it up


def timeline_rows(s: GameSession, limit: int = MAX_TIMELINE_ROWS) -> tuple[list[Row], list[Row]]:
    """Decisions, facilitator's events and the most important news, in date order, at most
    `limit` rows (decisions and facilitator's events are always kept); and the news items that
    were left out."""
    model = s.model
    mine = [
        Row(
            d.date,
            i,
            "decision",
            ROLES[d.role].name,
            decision_text(model, d.change),
            effect_text(d.effect, model),
            lever=str(d.change.lever),
        )
        for i, d in enumerate(s.decisions)
    ]
    facilitator = [
        Row(
            str(x.get("date", "")),
            i,
            "facilitator",
            "Facilitator's event",
            str(x.get("headline") or x.get("name") or x.get("id", "")),
            "",
        )
        for i, x in enumerate(s.injected)
    ]
    world = _world_rows(s)
    room = max(0, limit - len(mine) - len(facilitator))
    kept = _pick(world, room)
    rows = mine + facilitator + kept
    rank = {"facilitator": 0, "decision": 1, "world": 2}
    rows.sort(key=lambda r: (r.date, rank[r.kind], r.order))
    kept_ids = {id(r) for r in kept}
    return rows, [r for r in world if id(r) not in kept_ids]


def left_out_text(left_out: list[Row]) -> str:
    """'12 training runs and 3 smuggling rings caught': what the timeline did not show."""
    kinds = Counter(r.news for r in left_out).most_common()
    return join_words(
        [f"{count(n)} {LEFT_OUT_WORDS.get(k, k.replace('_', ' '))}" for k, n in kinds]
    )


def _pick(rows: list[Row], room: int) -> list[Row]:
    """The heaviest news first; within the weight class that does not fit whole, items spread
    evenly over the game rather than the first ones."""
    rows = [r for r in rows if r.weight > MINOR_WEIGHT]
    if len(rows) <= room:
        return rows
    kept: list[Row] = []
    for weight in sorted({r.weight for r in rows}, reverse=True):
        group = [r for r in rows if r.weight == weight]
        free = room - len(kept)
        if free <= 0:
            break
        if len(group) <= free:
            kept += group
        else:
            idx = np.unique(np.round(np.linspace(0, len(group) - 1, free)).astype(int))
            kept += [group[i] for i in idx]
    return kept


def _world_rows(s: GameSession) -> list[Row]:
    """The news that no team made: scheduled and bot rule changes, shocks nobody injected,
    variants, smuggling rings caught, training runs (weighted by what they changed). Rule
    changes are matched to the model's command log, which lists them in the same order, to tell
    a team's or the facilitator's changes (shown from their own lists) from the scenario's and
    the bots'."""
    model = s.model
    sources = [src for _, _, src in model.command_log if src != "initial"]
    policy = [e for e in model.events if e.get("kind") == "policy"]
    matched = len(sources) == len(policy)
    decided = {(d.date, d.change.actor) for d in s.decisions}
    headlines = {str(x.get("headline")) for x in s.injected}
    runs = _training_weights(model)
    catches = _biggest_catches(model)
    out: list[Row] = []
    k = 0
    for i, e in enumerate(model.events):
        kind = str(e.get("kind", ""))
        actors = [str(a) for a in e.get("actors", [])]
        text = str(e.get("text", ""))
        who = "News: " + KIND_LABELS.get(kind, kind.replace("_", " "))
        weight = KIND_WEIGHT.get(kind, 30)
        if kind == "policy":
            src = sources[k] if matched else None
            k += 1
            if src in ("player", "facilitator"):
                continue
            if src is None and (
                text in headlines or any((e.get("date"), a) in decided for a in actors)
            ):
                continue
            who = {"schedule": "News: the scenario", "bot": "News: a bot government"}.get(
                src or "", "News: rule change"
            )
        elif kind == "shock" and text in headlines:
            continue
        elif kind == "training_run" and i in runs:
            who, weight = runs[i]
        elif kind == "broker_caught" and i in catches:
            weight = BIG_CATCH_WEIGHT
        out.append(Row(str(e.get("date", "")), i, "world", who, text, "", weight, kind))
    return out


def _biggest_catches(model: ChipWarModel) -> set[int]:
    """The largest seizure of each year: in a game with enforcement, rings are caught every
    month and would fill the timeline on their own."""
    best: dict[str, tuple[int, int]] = {}  # year -> (chips, event index)
    for i, e in enumerate(model.events):
        if e.get("kind") != "broker_caught":
            continue
        found = _CHIPS.search(str(e.get("text", "")))
        qty = int(found.group(1).replace(",", "")) if found else 0
        year = str(e.get("date", ""))[:4]
        if year not in best or qty > best[year][0]:
            best[year] = (qty, i)
    return {i for _, i in best.values()}


def _training_weights(model: ChipWarModel) -> dict[int, tuple[str, int]]:
    """Training runs make a third of the news, nearly all of it a bloc beating its own record
    by a point. The ones a class should see: a bloc taking the world lead, and each bloc's best
    model of each year (China's above the others')."""
    hist = getattr(model, "frontier_hist", None)
    best = dict.fromkeys(model.bloc_ids, -math.inf)
    if hist:
        best.update(
            {b: float(v) for b, v in zip(model.bloc_ids, hist[0], strict=True) if finite(v)}
        )
    leader = max(best, key=lambda b: best[b])
    out: dict[int, tuple[str, int]] = {}
    last_of_year: dict[tuple[str, str], int] = {}
    for i, e in enumerate(model.events):
        if e.get("kind") != "training_run":
            continue
        actors = e.get("actors") or [""]
        bloc = _lab_bloc(model, str(actors[0]))
        found = _CAPABILITY.search(str(e.get("text", "")))
        if bloc is None or found is None:
            continue
        value = float(found.group(1))
        out[i] = ("News: training run", KIND_WEIGHT["training_run"])
        if value <= best[bloc]:
            continue  # "leads" its bloc in the news, but below the bloc's best so far
        best[bloc] = value
        top = max(best, key=lambda b: best[b])
        if top != leader and best[top] > best[leader]:
            leader = top
            out[i] = ("News: a new world leader", LEAD_CHANGE_WEIGHT)
            continue
        last_of_year[(bloc, str(e.get("date", ""))[:4])] = i
    for (bloc, _year), i in last_of_year.items():
        if bloc == CHINA_BLOC:
            out[i] = ("News: China's best model", CHINA_RECORD_WEIGHT)
        else:
            out[i] = ("News: the year's best model", YEAR_BEST_WEIGHT)
    return out


def _lab_bloc(model: ChipWarModel, lab: str) -> str | None:
    i = model.lab_index.get(lab)
    return None if i is None else model.bloc_ids[int(model.labs.bloc[i])]
