"""The report's words: what happened to China, the numbers with and without the decisions, and
the decisions that mattered. Plain text only (the page escapes and wraps it), so the same
sentences could be shown anywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from game.config.world import default_world_data
from game.play.objectives import ROLES, vendor_revenue_usd
from game.play.session import GameSession
from game.reports.debrief.source import Story
from game.reports.debrief.table import PROVENANCE_COLUMNS, PROVENANCE_WORDS, finite
from game.reports.format import (
    amount,
    count,
    month_name,
    months,
    number,
    percent,
    signed,
    usd,
)
from game.sim.model import ChipWarModel

LEADER_BLOC = default_world_data().controller_bloc  # whose export rules (actors.yaml)

MAX_MATTERED = 5

Formatter = Callable[[float], str]


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ----------------------------------------------------------------------------- what happened
def what_happened(story: Story) -> str:
    """China's position at the end, as played and in the comparison world: gap, compute and
    where it came from, smuggling, the gray market."""
    p, o = story.played, story.other
    last = p.dates[-1]
    sentences = []
    gap, gap_o = p.end("gap_months"), o.end("gap_months")
    if finite(gap) and gap <= 0.05:
        sentences.append(f"In {month_name(last)}, China had the world's best AI model.")
    else:
        sentences.append(
            f"In {month_name(last)}, China's best AI model was {months(gap)} behind the leader's."
        )
    sentences.append(f"In the comparison world, {story.other_short}, it was {months(gap_o)}.")
    compute, compute_o = p.end("compute_h100e"), o.end("compute_h100e")
    mix = [
        f"{percent(p.end(column))} {PROVENANCE_WORDS[column]}"
        for column, _ in PROVENANCE_COLUMNS
        if finite(p.end(column)) and p.end(column) >= 0.0005
    ]
    sentences.append(
        f"China's labs held {amount(compute)} H100-equivalents of compute "
        f"({amount(compute_o)} in the comparison)" + (f": {join_words(mix)}." if mix else ".")
    )
    smuggled, seized = p.total("chips_smuggled"), p.total("chips_seized")
    smuggled_o, seized_o = o.total("chips_smuggled"), o.total("chips_seized")
    if smuggled or seized or smuggled_o:
        sentences.append(
            f"Over the game {count(smuggled)} chips were smuggled into China and "
            f"{count(seized)} were seized on the way (comparison: {count(smuggled_o)} "
            f"smuggled, {count(seized_o)} seized)."
        )
    else:
        sentences.append("No chips were smuggled into China in either world.")
    sentences.append(_gray_market(story))
    return " ".join(sentences)


def _gray_market(story: Story) -> str:
    p = story.played
    price = p.series("gray_price_usd")
    chips = p.labels("gray_chip")
    seen = np.flatnonzero(np.isfinite(price))
    if seen.size == 0:
        return "No gray market for AI chips appeared in this game."
    i = int(seen[-1])
    chip = ""
    if chips[i]:
        chip = f" for the {chips[i]}"
    when = "at the end" if i == len(price) - 1 else f"in {month_name(p.dates[i])}"
    peak = float(np.nanmax(price))
    text = f"The gray-market price{chip} was {usd(price[i])} a chip {when}"
    if peak > price[i] * 1.05:
        text += f" (its peak: {usd(peak)})"
    end_o = story.other.end("gray_price_usd")
    if finite(end_o):
        text += f"; in the comparison, {usd(end_o)} at the end"
    return text + "."


def any_smuggling(story: Story) -> bool:
    """Whether either world saw a chip smuggled or seized (else the chart would be empty)."""
    return any(
        table.total(column) > 0
        for table in (story.played, story.other)
        for column in ("chips_smuggled", "chips_seized")
    )


def checkpoints(dates: list[str]) -> list[tuple[str, str]]:
    """Start, middle and end of the game (fewer when the game is that short)."""
    picks = [("start", 0), ("middle", len(dates) // 2), ("end", len(dates) - 1)]
    out, seen = [], set()
    for label, i in picks:
        if dates[i] not in seen:
            seen.add(dates[i])
            out.append((label, dates[i]))
    return out


# ----------------------------------------------------------------------------- with and without
def outcome_rows(story: Story) -> list[tuple[str, str, float, float, Formatter]]:
    """(key, label, played, comparison, formatter) for the with-and-without table. Public so
    tests can read the same numbers the report prints."""
    p, o = story.played, story.other
    rows: list[tuple[str, str, float, float, Formatter]] = [
        (
            "china_frontier",
            "China's best model (capability index, end)",
            p.end("frontier_capability"),
            o.end("frontier_capability"),
            number,
        ),
        (
            "china_gap",
            "China's gap to the leader (months, end)",
            p.end("gap_months"),
            o.end("gap_months"),
            number,
        ),
        (
            "china_compute",
            "China's compute (H100-equivalents, end)",
            p.end("compute_h100e"),
            o.end("compute_h100e"),
            amount,
        ),
        (
            "smuggled",
            "Chips smuggled into China (whole game)",
            p.total("chips_smuggled"),
            o.total("chips_smuggled"),
            count,
        ),
        (
            "seized",
            "Chips bound for China seized (whole game)",
            p.total("chips_seized"),
            o.total("chips_seized"),
            count,
        ),
        (
            "china_revenue",
            "Chip vendors' revenue from China's labs, domestic included (whole game)",
            p.total("vendor_revenue_usd"),
            o.total("vendor_revenue_usd"),
            usd,
        ),
    ]
    if story.session is not None:
        s = story.session
        rows.append(
            (
                "nvidia_revenue",
                "NVIDIA's revenue, all markets (whole game)",
                vendor_revenue_usd(s.model),
                vendor_revenue_usd(s.ghost),
                usd,
            )
        )
    rows.append(
        (
            "us_frontier",
            "America's best model (capability index, end)",
            p.end("frontier_capability", LEADER_BLOC),
            o.end("frontier_capability", LEADER_BLOC),
            number,
        )
    )
    return rows


# ----------------------------------------------------------------------------- decisions
def decision_text(model: ChipWarModel, change: Any) -> str:
    """'Export enforcement effort: 4 x baseline' (the page adds the lever id, for a reader who
    wants to find it in `python main.py levers`)."""
    spec = model.spec.levers.get(change.lever)
    name = spec.name if spec else change.lever
    value = change.value
    if isinstance(value, bool):
        shown = "on" if value else "off"
    elif isinstance(value, int | float):
        shown = f"{value:,.4g}" + (f" {spec.unit}" if spec and spec.unit else "")
    else:
        shown = str(value)
    target = ""
    if change.target:
        target = f" for {model.target_name(str(change.target))}"
    return f"{name}{target}: {shown}"


def effect_text(effect: dict[str, float] | None, model: ChipWarModel) -> str:
    """How a decision moved each bloc's projected capability, the largest first."""
    if effect is None:
        return "not measured"
    names = dict(zip(model.bloc_ids, model.bloc_names, strict=True))
    items = sorted(
        ((b, v) for b, v in effect.items() if finite(v) and abs(v) >= 0.05),
        key=lambda bv: -abs(bv[1]),
    )
    if not items:
        return "no visible change"
    return ", ".join(f"{names.get(b, b)} {signed(v)}" for b, v in items)


def decisions_that_mattered(s: GameSession) -> list[tuple[str, str, str, str, str]]:
    """(date, team, decision, lever id, effect) of the decisions whose measured effect was
    largest; none when the effects were not measured (a game loaded from a save)."""
    return [
        (
            d.date,
            ROLES[d.role].name,
            decision_text(s.model, d.change),
            str(d.change.lever),
            effect_text(d.effect, s.model),
        )
        for d in s.decisions_that_mattered(MAX_MATTERED)
    ]
