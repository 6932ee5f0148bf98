"""The debrief report: one self-contained HTML file that a teacher can open, project or print on
A4 after a game, and that a student can take home.

A report reads a saved game (.scgame), a live GameSession or a results table written by
`run --out` (source.py), tells what happened and which decisions mattered (story.py,
timeline.py), draws the charts (charts.py) and fills the page's template (page.py,
game/reports/templates/debrief.html). China is the report's focus throughout (the gap, the
smuggling, the provenance chart): every role's objective is about China's access to compute
(game/play/objectives.py).

Everything, matplotlib included, is imported when this package is, so a caller that writes
from a thread can import it in its main thread first: imports are the slowest thing a thread
does while a frame loop holds the GIL. Nothing here imports pygame.
"""

from __future__ import annotations

from pathlib import Path

from game.batch.output import save_bytes
from game.config.files import check_writable
from game.play.session import GameSession
from game.reports.debrief.page import render_html
from game.reports.debrief.source import Story, add_futures, read_story

__all__ = ["Story", "read_story", "render_html", "write_report"]


def write_report(
    source: str | Path | GameSession,
    out: str | Path,
    *,
    baseline: str = "historical",
    seed: int = 2022,
    futures: int = 0,
    workers: int = 1,
    weighted: bool = False,
) -> Path:
    """Write the debrief report of a saved game, a live GameSession or a results table to
    `out` (HTML), whole or not at all, and return its path.

    `baseline` and `seed` only matter for a results table, which carries no world to compare
    with: the baseline scenario is run with that seed over the table's months. Raises
    InputError naming the file for anything a user can fix (a missing or foreign file, a table
    without the needed columns, an unknown baseline).

    `futures` > 0 (a game only) adds China's gap over that many sampled futures, without and
    with the decisions (`workers` processes run them); `weighted` weighs each future by how
    well its world reproduces the public record (game/batch/plausibility.py)."""
    out = check_writable(out, "--out")
    story = read_story(source, baseline, int(seed))
    if futures > 0:
        add_futures(story, futures, int(seed), workers, weighted)
    page = render_html(story)
    save_bytes(out, page.encode("utf-8"), "--out")
    return out
