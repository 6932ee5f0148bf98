"""The report as one HTML page: the template (game/reports/templates/debrief.html: the page's
structure, its CSS and its fixed prose) filled with the story's text, its tables and its
charts.

Why one file with everything inside (CSS in a <style>, charts as base64 PNGs): reports are
mailed, uploaded to a school's learning platform and opened offline, where a linked image or
stylesheet is a broken one. Every value put into the template is escaped here, never in the
template, so text from a save (a lesson's title, a facilitator's headline) cannot add markup.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from game.play.objectives import ROLES
from game.reports.debrief.charts import (
    chart_blocs,
    chart_gap,
    chart_gap_futures,
    chart_shares,
    chart_smuggling,
)
from game.reports.debrief.source import Story
from game.reports.debrief.story import (
    any_smuggling,
    checkpoints,
    decisions_that_mattered,
    outcome_rows,
    what_happened,
)
from game.reports.debrief.table import PROVENANCE_COLUMNS, finite
from game.reports.debrief.timeline import Row, left_out_text, timeline_rows
from game.reports.format import percent, signed

TEMPLATE = ("templates", "debrief.html")  # package data of game.reports


@cache
def _template() -> Template:
    """Read once per process (the game writes reports from a worker that lives on)."""
    folder, name = TEMPLATE
    path = resources.files("game.reports").joinpath(folder).joinpath(name)
    return Template(path.read_text(encoding="utf-8"))


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(story: Story) -> str:
    """The whole page. Public so the game (or a test) can render without writing a file."""
    session = story.session
    comparison_title = (
        "With and without your decisions"
        if session is not None
        else f"Against the '{story.baseline}' scenario"
    )
    where = "from the lesson" if session is not None and session.lesson else ""
    return _template().substitute(
        title=_esc(story.title),
        meta=_meta(story),
        what_happened=_esc(what_happened(story)),
        comparison_world=_esc(story.other_long),
        scores=_scores(story),
        charts=_charts(story),
        provenance_table=_provenance_table(story),
        provenance_chart=_figure_html(
            chart_shares(story),
            "Stacked area chart: the share of China's compute bought legally, as compliant "
            "variants, from domestic vendors, smuggled and rented abroad, month by month.",
            "Where China's compute came from, month by month (hatching tells the bands apart "
            "in black and white).",
        ),
        timeline=_timeline(story),
        comparison_title=_esc(comparison_title),
        outcomes=_outcomes(story),
        mattered=_mattered(story),
        questions_title=_esc("Discussion questions" + (f" {where}" if where else "")),
        questions="".join(f"<li>{_esc(q)}</li>" for q in story.questions),
        source=_esc(story.source),
        today=_dt.date.today().isoformat(),
    )


def _meta(story: Story) -> str:
    parts = [f'<p class="meta">{_esc(line)}</p>' for line in story.meta]
    if story.summary:
        parts.append(f'<p class="summary">{_esc(story.summary)}</p>')
    return "\n".join(parts)


def _figure_html(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _scores(story: Story) -> str:
    s = story.session
    if s is None:
        return (
            '<p class="note">A results table has no teams, so there are no scores. Save a game '
            "(Ctrl+S in the game) and make the report from the .scgame file to see them.</p>"
        )
    rows = []
    for r in s.roles:
        score = s.score(r)
        met = "met" if score.met else "not met"
        rows.append(
            f"<tr><td>{_esc(ROLES[r].name)}</td><td>{_esc(s.role_of(r).objective)}</td>"
            f'<td>{_esc(score.text)}</td><td class="{"met" if score.met else ""}">{met}</td></tr>'
        )
    return (
        '<h3>Scores</h3>\n<table class="keep scores"><thead><tr><th>Team</th><th>Objective</th>'
        "<th>Result</th><th>Goal</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _charts(story: Story) -> str:
    short = story.other_short
    figures = [
        _figure_html(
            chart_blocs(story, "frontier_capability", "capability index"),
            "Line chart: the capability of each bloc's best AI model, month by month, as "
            f"played (solid lines with markers) and {short} (dashed lines).",
            "Frontier capability of each bloc's best model (10 points = ten times the "
            f"effective training compute). Dashed: {short}.",
        ),
        _figure_html(
            chart_gap(story),
            "Line chart: how many months China's best model trailed the leader, as played "
            f"(solid) and {short} (dashed).",
            "China's gap in months: how long ago the leading bloc first reached China's "
            "current capability. Higher means further behind.",
        ),
        *(
            [
                _figure_html(
                    chart_gap_futures(story),
                    "Line chart with shaded bands: China's gap in months over many sampled "
                    f"futures, as played (solid) and {short} (dashed), median and 10-90%.",
                    "China's gap across what we don't know: " + story.futures_note,
                )
            ]
            if story.futures is not None
            else []
        ),
        _figure_html(
            chart_blocs(story, "compute_h100e", "H100-equivalents (log scale)", log=True),
            "Line chart on a logarithmic scale: installed AI compute of each bloc in "
            f"H100-equivalents, as played (solid) and {short} (dashed).",
            "Compute held by each bloc's labs, in H100-equivalents (log scale: each gridline "
            f"is ten times the one below). Dashed: {short}.",
        ),
    ]
    if any_smuggling(story):
        figures.append(
            _figure_html(
                chart_smuggling(story),
                "Line chart: chips smuggled into China and chips seized on the way each month, "
                f"with smuggled chips {short} dashed.",
                "Smuggled and seized chips a month, into China.",
            )
        )
    else:
        figures.append(
            "<p>No chips were smuggled into China or seized on the way in either world, so "
            "there is no smuggling chart (smuggling only pays when the rules keep China from "
            "buying a chip it wants legally).</p>"
        )
    return "\n".join(figures)


def _provenance_table(story: Story) -> str:
    p = story.played
    head = "".join(f'<th class="num">{_esc(label)}</th>' for _, label in PROVENANCE_COLUMNS)
    rows = []
    for bloc in p.blocs:
        for j, (label, date) in enumerate(checkpoints(p.dates)):
            t, b = p.dates.index(date), p.blocs.index(bloc)
            cells = "".join(
                f'<td class="num" data-col="{c}">{percent(float(p.grid(c)[t, b]))}</td>'
                for c, _ in PROVENANCE_COLUMNS
            )
            name = _esc(story.bloc_names.get(bloc, bloc)) if j == 0 else ""
            cls = ' class="group"' if j == 0 else ""
            rows.append(
                f'<tr{cls} data-bloc="{_esc(bloc)}" data-date="{_esc(date)}"><td>{name}</td>'
                f'<td class="when">{_esc(label)} {_esc(date)}</td>{cells}</tr>'
            )
    other_end = story.other.dates[-1]
    cells = "".join(
        f'<td class="num">{percent(story.other.end(c))}</td>' for c, _ in PROVENANCE_COLUMNS
    )
    rows.append(
        f'<tr class="group comparison"><td>China (comparison)</td>'
        f'<td class="when">end {_esc(other_end)}</td>{cells}</tr>'
    )
    return (
        '<table class="keep provenance"><caption>Share of each bloc\'s compute (in '
        "H100-equivalents) by where it came from, at the start, middle and end of the game; "
        "each row adds up to 100% for a bloc that holds compute. China (comparison): "
        f"{_esc(story.other_short)}.</caption><thead><tr><th>Bloc</th><th>Month</th>"
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _what(row: Row) -> str:
    text = _esc(row.what)
    return f"{text} <code>({_esc(row.lever)})</code>" if row.lever else text


def _timeline(story: Story) -> str:
    s = story.session
    if s is None:
        return (
            "<p>A results table holds no decisions and no news, only the monthly numbers. "
            "To see who decided what and when, save a game (Ctrl+S in the game) and make the "
            "report from the saved .scgame file.</p>"
        )
    rows, left_out = timeline_rows(s)
    if not rows:
        return "<p>Nothing was decided and nothing made the news.</p>"
    # A loaded game has no projections left to measure effects with: a column of "not
    # measured" would only be noise, so it goes and the note says why.
    measured = any(d.effect is not None for d in s.decisions)
    note = (
        "<p>The teams' decisions, the facilitator's events (in italics) and the world's news, "
        "in date order. A date is the month a change took effect. "
    )
    if measured:
        note += (
            "<em>Effect</em>: how much the decision moved each bloc's projected capability at "
            "the end of the game (points; 10 points = ten times the effective compute), "
            "measured by the game's projections when the decision was made.</p>"
        )
    else:
        note += (
            "The decisions' effects were not measured (the game measures them with its "
            "projections while it is played).</p>"
        )
    body = "".join(
        f'<tr class="{r.kind}"><td class="when">{_esc(r.date)}</td><td class="who">'
        f"{_esc(r.who)}</td><td>{_what(r)}</td>"
        + (f"<td>{_esc(r.effect)}</td>" if measured else "")
        + "</tr>"
        for r in rows
    )
    more = ""
    if left_out:
        more = (
            f'<p class="note">Left out as less important: {left_out_text(left_out)}. Every '
            "decision and facilitator's event is shown.</p>"
        )
    return (
        note
        + '\n<table class="timeline"><thead><tr><th>Date</th><th>Who</th><th>What</th>'
        + ("<th>Effect</th>" if measured else "")
        + "</tr></thead><tbody>"
        + body
        + "</tbody></table>\n"
        + more
    )


def _outcomes(story: Story) -> str:
    rows = []
    for key, label, played, other, fmt in outcome_rows(story):
        diff = played - other if finite(played) and finite(other) else float("nan")
        change = signed(diff, fmt)
        if change == fmt(0.0):
            change = "no change"
        rows.append(
            f'<tr data-key="{key}"><td>{_esc(label)}</td><td class="num">{_esc(fmt(played))}</td>'
            f'<td class="num">{_esc(fmt(other))}</td>'
            f'<td class="num">{_esc(change)}</td></tr>'
        )
    return (
        '<table class="keep outcomes"><thead><tr><th>At the end of the game</th>'
        f'<th class="num">{_esc(story.played_short.capitalize())}</th>'
        f'<th class="num">{_esc(story.other_short.capitalize())}</th>'
        '<th class="num">Difference</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
    )


def _mattered(story: Story) -> str:
    s = story.session
    if s is None:
        return ""
    head = "<h3>The decisions that mattered most</h3>\n"
    if not s.decisions:
        return head + "<p>No team moved a lever: both worlds are the same but for chance.</p>"
    mattered = decisions_that_mattered(s)
    if not mattered:
        return head + (
            '<p class="note">The effects of the decisions were not measured: the game measures '
            "them with its projections while it is played, and a loaded game cannot measure "
            "decisions made before it was saved.</p>"
        )
    items = "".join(
        f"<li>{_esc(date)}, {_esc(team)}: {_esc(what)} <code>({_esc(lever)})</code>"
        f" (projected capability at the end: {_esc(effect)})</li>"
        for date, team, what, lever, effect in mattered
    )
    return head + f"<ol>{items}</ol>"
