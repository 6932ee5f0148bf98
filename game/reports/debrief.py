"""The debrief report: one self-contained HTML file that a teacher can open, project or print on
A4 after a game, and that a student can take home.

Why one file with everything inside (CSS in a <style>, charts as base64 PNGs): reports are
mailed, uploaded to a school's learning platform and opened offline, where a linked image or
stylesheet is a broken one. Why matplotlib's Agg canvas without pyplot: the game writes the
report from a background thread while its window runs, and pyplot's global state (and any GUI
backend) must not be touched from there. Everything is imported at the top, so a caller that
writes from a thread can import this module (and matplotlib) in its main thread first: imports
are the slowest thing a thread does while a frame loop holds the GIL. This module never imports
pygame.

A report reads one of two sources:

- a saved game (.scgame) or a live GameSession: the world as played and its ghost (the same
  world, seed, bots and facilitator's events without the teams' decisions), the decisions,
  the facilitator's events, the news, the scores and the lesson;
- a results table written by `run --out` (.csv or .parquet): only the monthly numbers. The
  comparison world is then a fresh run of a baseline scenario, and the report says so.

China is the report's focus throughout (the gap, the smuggling, the provenance chart): every
role's objective is about China's access to compute (game/play/objectives.py).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from game.config.dates import format_month, parse_month
from game.config.errors import InputError, Problem
from game.config.files import atomic_write_bytes, check_writable
from game.config.scenario import load_scenario
from game.config.world import default_world_data
from game.play.objectives import CHINA_BLOC, ROLES, vendor_revenue_usd
from game.play.session import GameSession
from game.sim.model import ChipWarModel

PROVENANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("legal_share", "Legal"),
    ("compliant_share", "Compliant"),
    ("domestic_share", "Domestic"),
    ("smuggled_share", "Smuggled"),
    ("rented_share", "Rented"),
)
# The same, as a sentence and a chart legend say them.
PROVENANCE_WORDS = {
    "legal_share": "bought legally",
    "compliant_share": "compliant variants",
    "domestic_share": "domestic chips",
    "smuggled_share": "smuggled",
    "rented_share": "rented abroad",
}
# The columns the report reads from a results table; anything else in the file is ignored.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "date",
    "bloc",
    "frontier_capability",
    "gap_months",
    "compute_h100e",
    *(c for c, _ in PROVENANCE_COLUMNS),
    "chips_smuggled",
    "chips_seized",
    "gray_price_usd",
    "vendor_revenue_usd",
)
NUMBERS = REQUIRED_COLUMNS[2:]  # the numeric ones
TABLE_SUFFIXES = (".csv", ".parquet")
GAME_SUFFIX = ".scgame"
MAX_TIMELINE_ROWS = 60  # about two printed pages: more stops being read
MAX_MATTERED = 5

# Charts: the A4 text width (210 mm - 2 x 15 mm margins) at a resolution that prints sharply
# without making the file heavy (each chart is 40-80 kB).
CHART_WIDTH_MM = 180.0
CHART_HEIGHT_MM = 68.0
CHART_DPI = 150
MM = 1 / 25.4

# Okabe-Ito hues as in game/ui/palette.py (not imported: that package is the pygame UI), with
# a dark blue for the US instead of the screen's sky blue, which is too pale on paper. Colour is
# never the only cue: each bloc also has its own marker, the comparison world is dashed, and
# the stacked areas are hatched, so the charts survive a greyscale printer.
BLOC_STYLE: dict[str, tuple[str, str]] = {
    "us": ("#0072B2", "o"),
    "china": ("#D55E00", "s"),
    "allies": ("#009E73", "^"),
    "rest": ("#777777", "D"),
}
OTHER_STYLES = [("#CC79A7", "v"), ("#E69F00", "P"), ("#56B4E9", "X"), ("#000000", "*")]
PROVENANCE_STYLE: dict[str, tuple[str, str]] = {
    "legal_share": ("#0072B2", ""),
    "compliant_share": ("#56B4E9", "//"),
    "domestic_share": ("#D55E00", ".."),
    "smuggled_share": ("#E69F00", "xx"),
    "rented_share": ("#CC79A7", "\\\\"),
}
KIND_LABELS = {
    "policy": "rule change",
    "shock": "shock",
    "training_run": "training run",
    "broker_caught": "smuggling",
    "variant_released": "new chip",
    "variant_design": "chip design",
    "remote_access": "cloud access",
}
# How much a news item matters to the story, when the timeline has to leave some out.
LEFT_OUT_WORDS = {
    "policy": "rule changes",
    "shock": "shocks",
    "training_run": "training runs",
    "broker_caught": "smuggling rings caught",
    "variant_released": "new chips",
    "variant_design": "chip designs started",
    "remote_access": "cloud-access cuts",
}
KIND_WEIGHT = {
    "policy": 100,
    "shock": 90,
    "variant_released": 80,
    "remote_access": 75,
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

DEFAULT_QUESTIONS_GAME = (
    "Which of your decisions changed China's capability most, and why did it matter more than "
    "the others?",
    "Where did China's compute come from at the end, and how did the rules change that mix?",
    "Who paid for the controls? Compare chip vendors' revenue with and without your decisions.",
    "What does this simplified model leave out that could change your answer?",
)
DEFAULT_QUESTIONS_TABLE = (
    "How does this run differ from the comparison scenario, and which rule or setting explains "
    "the difference?",
    "Where did China's compute come from at the end, and why that mix?",
    "Did smuggling make up for the chips China could not buy legally? What limits it?",
    "What does this simplified model leave out that could change your answer?",
)

CSS = """
@page { size: A4; margin: 15mm; }
:root { color-scheme: light; }
html { background: #fff; }
body {
  font-family: "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  font-size: 11pt; line-height: 1.45; color: #111; background: #fff;
  max-width: 180mm; margin: 0 auto; padding: 10mm 5mm 15mm;
}
h1 { font-size: 20pt; line-height: 1.2; margin: 0 0 2mm; }
h2 {
  font-size: 14pt; margin: 9mm 0 3mm; padding-bottom: 1mm; border-bottom: 1.5px solid #333;
  break-after: avoid; page-break-after: avoid;
}
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 2.5mm; }
.meta { color: #333; margin: 0 0 1mm; }
.summary { font-style: italic; }
.note { font-size: 9.5pt; color: #333; }
figure { margin: 4mm 0 5mm; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; width: 100%; max-width: 100%; height: auto; }
img { max-width: 100%; height: auto; }
figcaption { font-size: 9.5pt; color: #333; margin-top: 1mm; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: 2mm 0 4mm; }
table.provenance { font-size: 9pt; }
table.keep { break-inside: avoid; page-break-inside: avoid; }
caption { text-align: left; font-size: 9.5pt; color: #333; padding-bottom: 1mm; }
th, td { text-align: left; vertical-align: top; padding: 1.1mm 1.6mm;
         border-bottom: 0.6pt solid #aaa; }
thead th { border-bottom: 1.2pt solid #333; }
th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.when { white-space: nowrap; }
tr.group td { border-top: 1.2pt solid #333; }
tr.facilitator td { font-style: italic; }
tr.facilitator td.who, tr.decision td.who { font-weight: bold; }
tr.world td { color: #333; }
code { font-size: 8.5pt; color: #444; }
ol li, ul li { margin-bottom: 1.5mm; }
.met { font-weight: bold; }
footer { margin-top: 10mm; padding-top: 2mm; border-top: 0.8pt solid #666;
         font-size: 9pt; color: #333; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h2 { margin-top: 6mm; }
  tr, li { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


# ----------------------------------------------------------------------------- the story
@dataclass
class _Story:
    """Everything a report shows, in one place, whatever the source: the sections below read
    only this, so a game and a results table give the same report where they can."""

    source: str  # the file (or the game) it was made from, as shown in the footer
    title: str
    played: _Table  # the results as played (or in the file)
    other: _Table  # the comparison world over the same months
    other_short: str  # legends: "without your decisions" / "historical (seed 2022)"
    other_long: str  # one sentence saying what the comparison world is
    bloc_names: dict[str, str]
    meta: list[str] = field(default_factory=list)  # lines under the title
    summary: str | None = None  # the lesson's
    session: GameSession | None = None
    questions: Sequence[str] = ()
    baseline: str | None = None  # a results table's comparison scenario
    played_short: str = "as played"  # legends and table headings: "as played" / "this table"


def write_report(
    source: str | Path | GameSession,
    out: str | Path,
    *,
    baseline: str = "historical",
    seed: int = 2022,
) -> Path:
    """Write the debrief report of a saved game, a live GameSession or a results table to
    `out` (HTML), whole or not at all, and return its path.

    `baseline` and `seed` only matter for a results table, which carries no world to compare
    with: the baseline scenario is run with that seed over the table's months. Raises
    InputError naming the file for anything a user can fix (a missing or foreign file, a table
    without the needed columns, an unknown baseline)."""
    out = check_writable(out, "--out")
    story = _story(source, baseline, int(seed))
    page = render_html(story)
    atomic_write_bytes(out, page.encode("utf-8"))
    return out


def _story(source: str | Path | GameSession, baseline: str, seed: int) -> _Story:
    if isinstance(source, GameSession):
        return _game_story(source, "the game just played")
    path = Path(source)
    if not path.exists():
        raise InputError(Problem("no such file", file=str(path)))
    if path.is_dir():
        raise InputError(
            Problem(
                "is a folder; expected a saved game (.scgame) or a results table (.csv or "
                ".parquet)",
                file=str(path),
            )
        )
    kind = _kind_of(path)
    if kind == "game":
        return _game_story(GameSession.load(path), path.name)
    return _table_story(path, _read_table(path, kind), baseline, seed)


def _kind_of(path: Path) -> str:
    """'game', 'csv' or 'parquet': by the name, else by the first bytes (a save is a zip, a
    Parquet file starts with PAR1), so a renamed file still works."""
    suffix = path.suffix.lower()
    if suffix == GAME_SUFFIX:
        return "game"
    if suffix in TABLE_SUFFIXES:
        return suffix[1:]
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise InputError(Problem(f"cannot be read ({exc.strerror})", file=str(path))) from None
    if head == b"PAR1":
        return "parquet"
    if zipfile.is_zipfile(path):
        return "game"
    raise InputError(
        Problem(
            "expected a saved game (.scgame) or a results table written by `run --out` "
            f"(.csv or .parquet), got a '{path.suffix or 'file without extension'}' file",
            file=str(path),
        )
    )


# ----------------------------------------------------------------------------- a saved game
def _game_story(s: GameSession, shown: str) -> _Story:
    model, ghost = s.model, s.ghost
    played = _Table.from_model(model)
    if not len(played):
        raise InputError(Problem("the game has no month played yet: nothing to report", file=shown))
    other = _Table.from_model(ghost)
    lesson = s.lesson or {}
    scenario = s.scenario
    first, last = played.dates[0], played.dates[-1]
    months = len(played)
    title = str(lesson.get("title") or f"Silicon Curtain: {scenario.name}")
    span = f"{_month_text(first)} to {_month_text(last)} ({months} months"
    span += ")" if s.finished else f" of {model.horizon}: the game was not finished)"
    teams = ", ".join(ROLES[r].name for r in s.roles)
    turn = f", handing over every {s.turn_months} months" if len(s.roles) > 1 else ""
    meta = [
        f"Scenario: {scenario.name}: {scenario.description}",
        f"Played: {span}",
        f"Teams: {teams}{turn}. Difficulty: {s.difficulty}. Seed: {s.rng}.",
    ]
    humans = {ROLES[r].actor for r in s.roles}
    dropped = [x for x in scenario.schedule if x.change.actor in humans]
    long = (
        "The comparison world is the same scenario, seed and bot players, with the "
        "facilitator's events, but without the teams' decisions."
    )
    if dropped:
        who = " and ".join(sorted({model.actor_name(x.change.actor) for x in dropped}))
        long += (
            f" Because people played them, the scenario's {len(dropped)} dated changes by "
            f"{who} were applied in neither world: the teams decided instead."
        )
    return _Story(
        source=shown,
        title=title,
        played=played,
        other=other,
        other_short="without your decisions",
        other_long=long,
        bloc_names=dict(zip(model.bloc_ids, model.bloc_names, strict=True)),
        meta=meta,
        summary=str(lesson["summary"]) if lesson.get("summary") else None,
        session=s,
        questions=[str(q) for q in lesson.get("questions") or ()] or DEFAULT_QUESTIONS_GAME,
    )


# ----------------------------------------------------------------------------- a results table
def _read_table(path: Path, kind: str) -> pd.DataFrame:
    def bad(msg: str) -> InputError:
        return InputError(Problem(msg, file=str(path)))

    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype={"date": str, "bloc": str, "gray_chip": str})
        else:
            frame = pd.read_parquet(path)
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise bad(f"is not a readable CSV results table ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise bad(f"cannot be read ({exc})") from None
    except Exception as exc:  # pyarrow's errors for a damaged or foreign Parquet file
        raise bad(f"is not a readable {kind} results table ({type(exc).__name__}: {exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise bad(
            f"is not a results table from `run --out`: missing the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    if frame.empty:
        raise bad("the results table has no rows")
    frame = frame.copy()
    frame["date"] = frame["date"].astype(str).str.strip()
    frame["bloc"] = frame["bloc"].astype(str).str.strip()
    bad_dates = sorted({d for d in frame["date"] if not _is_month(d)})
    if bad_dates:
        raise bad(f"date: expected months as YYYY-MM, got {bad_dates[0]!r}")
    frame["date"] = [format_month(parse_month(d)) for d in frame["date"]]  # 2022-1 -> 2022-01
    for column in REQUIRED_COLUMNS[2:]:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        wrong = frame[column][numbers.isna() & frame[column].notna()]
        if len(wrong):
            raise bad(f"{column}: expected numbers, got {wrong.iloc[0]!r}")
        frame[column] = numbers.astype(float)
    if CHINA_BLOC not in set(frame["bloc"]):
        raise bad(f"bloc: no rows for '{CHINA_BLOC}', the bloc the report is about")
    if frame.duplicated(["date", "bloc"]).any():
        extra = " (a sweep's outcomes: pick one run_id first)" if "run_id" in frame else ""
        raise bad(f"holds several rows for the same month and bloc{extra}; expected one run")
    return frame


def _is_month(value: str) -> bool:
    try:
        parse_month(value)
    except ValueError:
        return False
    return True


def _table_story(path: Path, played: pd.DataFrame, baseline: str, seed: int) -> _Story:
    try:
        scenario = load_scenario(baseline)
    except InputError as exc:
        if any(x.file for x in exc.problems):
            raise  # a scenario file's own problems name their place
        raise InputError([Problem(x.message, key="--baseline") for x in exc.problems]) from None
    table = _Table.from_frame(played)
    first, last = table.dates[0], table.dates[-1]
    months = parse_month(last) - scenario.start + 1
    if months < 1:
        raise InputError(
            Problem(
                f"the table ends in {last}, before the '{scenario.name}' scenario starts "
                f"({format_month(scenario.start)}): nothing to compare with; choose another "
                "--baseline",
                file=str(path),
            )
        )
    base = ChipWarModel(scenario, rng=seed, months=months)
    base.run()
    other = _Table.from_model(base).only(set(table.dates))
    if not len(other):
        raise InputError(
            Problem(
                f"the table's months ({first} to {last}) do not overlap the '{scenario.name}' "
                f"scenario's (from {format_month(scenario.start)}); choose another --baseline",
                file=str(path),
            )
        )
    names = {b.id: b.name for b in default_world_data().blocs}
    names = {b: names.get(b, b) for b in table.blocs}
    n_months = len(table)
    short = f"{scenario.name} (seed {seed})"
    long = (
        f"A results table holds one run and nothing to compare it with, so the comparison "
        f"world is a fresh run of the '{scenario.name}' scenario ({scenario.description}) "
        f"with seed {seed}, over the same months. If the table is itself that scenario and "
        f"seed, every difference is zero."
    )
    return _Story(
        source=path.name,
        title=f"Silicon Curtain: results from {path.name}",
        played=table,
        other=other,
        other_short=short,
        other_long=long,
        bloc_names=names,
        meta=[
            f"Results table: {path.name} ({n_months} months, {_month_text(first)} to "
            f"{_month_text(last)}). The table does not say which scenario or seed made it.",
            f"Compared with: the '{scenario.name}' scenario, seed {seed}.",
        ],
        questions=DEFAULT_QUESTIONS_TABLE,
        baseline=scenario.name,
        played_short="this table",
    )


# ----------------------------------------------------------------------------- numbers
class _Table:
    """A results table as month x bloc numpy grids, each built once. Why not pandas: the report
    reads each column many times, and the game writes it from a thread beside its window loop,
    where every pandas call that releases the GIL waits to get it back (a 40 ms summary took
    1.7 s beside a busy Python loop)."""

    def __init__(self, columns: dict[str, Sequence[Any]]) -> None:
        dates = [str(d) for d in columns["date"]]
        blocs = [str(b) for b in columns["bloc"]]
        self.dates: list[str] = sorted(set(dates))
        self.blocs: list[str] = list(dict.fromkeys(blocs))
        date_i = {d: i for i, d in enumerate(self.dates)}
        bloc_i = {b: i for i, b in enumerate(self.blocs)}
        self._rows = np.array([date_i[d] for d in dates], dtype=np.intp)
        self._cols = np.array([bloc_i[b] for b in blocs], dtype=np.intp)
        self._columns = columns
        self._grids: dict[str, np.ndarray] = {}
        self.x = [_dt.datetime(int(d[:4]), int(d[5:7]), 1) for d in self.dates]

    @classmethod
    def from_model(cls, model: ChipWarModel) -> _Table:
        """Straight from the model's collector (what model.results() would build a frame of)."""
        table = model.datacollector.tables["blocs"]
        return cls({c: list(table.get(c, [])) for c in ("date", "bloc", *NUMBERS, "gray_chip")})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> _Table:
        names = ("date", "bloc", *NUMBERS, "gray_chip")
        return cls({c: frame[c].tolist() for c in names if c in frame.columns})

    def __len__(self) -> int:
        return len(self.dates)

    def grid(self, column: str) -> np.ndarray:
        """[month, bloc] floats, NaN where the table has no row."""
        if column not in self._grids:
            g = np.full((len(self.dates), len(self.blocs)), np.nan)
            g[self._rows, self._cols] = np.asarray(self._columns[column], dtype=float)
            self._grids[column] = g
        return self._grids[column]

    def series(self, column: str, bloc: str = CHINA_BLOC) -> np.ndarray:
        if bloc not in self.blocs:
            return np.full(len(self.dates), np.nan)
        return self.grid(column)[:, self.blocs.index(bloc)]

    def labels(self, column: str, bloc: str = CHINA_BLOC) -> list[str]:
        """A text column (gray_chip) month by month for one bloc ('' where missing)."""
        out = [""] * len(self.dates)
        values = self._columns.get(column) or []
        b = self.blocs.index(bloc) if bloc in self.blocs else -1
        for r, c, v in zip(self._rows, self._cols, values, strict=False):
            if c == b and isinstance(v, str) and v not in ("nan", "None"):
                out[r] = v
        return out

    def only(self, dates: set[str]) -> _Table:
        keep = [i for i, d in enumerate(self._columns["date"]) if str(d) in dates]
        return _Table({c: [v[i] for i in keep] for c, v in self._columns.items()})


def _china(table: _Table, column: str) -> np.ndarray:
    return table.series(column)


def _end(table: _Table, column: str, bloc: str = CHINA_BLOC) -> float:
    series = table.series(column, bloc)
    return float(series[-1]) if len(series) else float("nan")


def _total(table: _Table, column: str, bloc: str = CHINA_BLOC) -> float:
    return float(np.nansum(table.series(column, bloc)))


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def percent(share: float) -> str:
    """A provenance share as the report prints it (tests compute the same text)."""
    return f"{100.0 * share:.1f}%" if _finite(share) else "–"


def _num(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}" if _finite(x) else "–"


def _count(x: float) -> str:
    return f"{round(x):,}" if _finite(x) else "–"


def _big(x: float) -> str:
    """Compute in H100-equivalents, short enough for a sentence."""
    if not _finite(x):
        return "–"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.1f} million"
    return f"{round(x):,}"


def _money(x: float) -> str:
    if not _finite(x):
        return "–"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e9:
        return f"{sign}${x / 1e9:,.1f}bn"
    if x >= 1e6:
        return f"{sign}${x / 1e6:,.0f}m"
    return f"{sign}${x:,.0f}"


def _signed(x: float, fmt: Any) -> str:
    if not _finite(x):
        return "–"
    text = fmt(abs(x))
    if abs(x) < 1e-9 or text == fmt(0.0):
        return "no change"
    return ("+" if x > 0 else "−") + text.lstrip("-")


_MONTHS = "January February March April May June July August September October November December"


def _month_text(date: str) -> str:
    """'2022-10' -> 'October 2022' (for sentences; tables keep YYYY-MM)."""
    try:
        year, month = str(date).split("-")[:2]
        return f"{_MONTHS.split()[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return str(date)


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# ----------------------------------------------------------------------------- charts
def _figure(height_mm: float = CHART_HEIGHT_MM) -> tuple[Any, Any]:
    fig = Figure(figsize=(CHART_WIDTH_MM * MM, height_mm * MM), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.tick_params(labelsize=7.5)
    ax.grid(True, color="#d0d0d0", linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png(fig: Any, *, top_mm: float = 4.0, right_mm: float = 3.0) -> bytes:
    """Fixed margins (room for tick labels and the axis title on the left, the date labels
    below): tight_layout measured every text and cost a third of the report's time."""
    w, h = fig.get_size_inches() / MM
    fig.subplots_adjust(left=16.0 / w, right=1 - right_mm / w, bottom=8.0 / h, top=1 - top_mm / h)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buf.getvalue()


def _date_axis(ax: Any) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _style(bloc: str, i: int) -> tuple[str, str]:
    return BLOC_STYLE.get(bloc) or OTHER_STYLES[i % len(OTHER_STYLES)]


def _every(n: int) -> int:
    return max(1, n // 12)


def _legend(ax: Any, **kw: Any) -> None:
    ax.legend(fontsize=7, frameon=False, **kw)


def chart_blocs(story: _Story, column: str, ylabel: str, *, log: bool = False) -> bytes:
    """One line per bloc as played (solid, marked) and in the comparison world (dashed)."""
    fig, ax = _figure()
    played, other = story.played, story.other
    for i, bloc in enumerate(played.blocs):
        colour, marker = _style(bloc, i)
        name = story.bloc_names.get(bloc, bloc)
        y = played.series(column, bloc)
        if log:
            y = np.where(y > 0, y, np.nan)
        ax.plot(
            played.x,
            y,
            color=colour,
            marker=marker,
            markersize=3.5,
            markevery=_every(len(y)),
            linewidth=1.6,
            label=name,
        )
        if bloc in other.blocs:
            z = other.series(column, bloc)
            if log:
                z = np.where(z > 0, z, np.nan)
            ax.plot(other.x, z, color=colour, linestyle=(0, (4, 2.5)), linewidth=1.0, alpha=0.9)
    ax.plot(
        [],
        [],
        color="#444",
        linestyle=(0, (4, 2.5)),
        linewidth=1.0,
        label=f"dashed: {story.other_short}",
    )
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel, fontsize=8)
    _date_axis(ax)
    _legend(
        ax,
        ncol=min(5, len(played.blocs) + 1),
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        borderaxespad=0.2,
    )
    return _png(fig, top_mm=8.0)


def chart_gap(story: _Story) -> bytes:
    """China's gap as played against the comparison world: the number the US team is scored
    on, and the first thing a class asks about."""
    fig, ax = _figure(60)
    played, other = _china(story.played, "gap_months"), _china(story.other, "gap_months")
    colour, marker = BLOC_STYLE["china"]
    ax.plot(
        story.played.x,
        played,
        color=colour,
        marker=marker,
        markersize=3.5,
        markevery=_every(len(played)),
        linewidth=1.8,
        label=story.played_short,
    )
    ax.plot(
        story.other.x,
        other,
        color="#333",
        linestyle=(0, (4, 2.5)),
        linewidth=1.2,
        label=story.other_short,
    )
    ax.set_ylabel("months behind the leader", fontsize=8)
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    _legend(ax, loc="best")
    return _png(fig)


def chart_smuggling(story: _Story) -> bytes:
    """Smuggled and seized chips a month: the gray market is where enforcement shows."""
    fig, ax = _figure(60)
    smuggled = _china(story.played, "chips_smuggled")
    seized = _china(story.played, "chips_seized")
    other = _china(story.other, "chips_smuggled")
    x = story.played.x
    ax.plot(
        x,
        smuggled,
        color="#E69F00",
        marker="o",
        markersize=3,
        markevery=_every(len(x)),
        linewidth=1.8,
        label=f"smuggled in ({story.played_short})",
    )
    ax.plot(
        x,
        seized,
        color="#0072B2",
        marker="x",
        markersize=4,
        markevery=_every(len(x)),
        linestyle=(0, (1, 1.2)),
        linewidth=1.6,
        label=f"seized on the way ({story.played_short})",
    )
    ax.plot(
        story.other.x,
        other,
        color="#333",
        linestyle=(0, (4, 2.5)),
        linewidth=1.1,
        label=f"smuggled in, {story.other_short}",
    )
    ax.set_ylabel("chips a month", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(_thousands())
    _date_axis(ax)
    _legend(ax, loc="best")
    return _png(fig)


def chart_shares(story: _Story) -> bytes:
    """China's compute by where it came from, stacked to 100%: hatched, so each band reads in
    greyscale too."""
    fig, ax = _figure(62)
    shares = [np.nan_to_num(_china(story.played, c)) * 100.0 for c, _ in PROVENANCE_COLUMNS]
    x = story.played.x
    polys = ax.stackplot(
        x,
        *shares,
        labels=[PROVENANCE_WORDS[c] for c, _ in PROVENANCE_COLUMNS],
        colors=[PROVENANCE_STYLE[c][0] for c, _ in PROVENANCE_COLUMNS],
        edgecolor="white",
        linewidth=0.4,
    )
    for poly, (column, _) in zip(polys, PROVENANCE_COLUMNS, strict=True):
        poly.set_hatch(PROVENANCE_STYLE[column][1])
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of China's compute", fontsize=8)
    _date_axis(ax)
    handles, labels = ax.get_legend_handles_labels()  # top band first, as stacked
    ax.legend(
        handles[::-1],
        labels[::-1],
        fontsize=7,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    return _png(fig, right_mm=36.0)


def _thousands() -> Any:
    return FuncFormatter(lambda v, _pos: f"{v:,.0f}")


def _figure_html(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


# ----------------------------------------------------------------------------- sections
def render_html(story: _Story) -> str:
    """The whole page. Public so the game (or a test) can render without writing a file."""
    sections = [
        _section_title(story),
        _section_summary(story),
        _section_charts(story),
        _section_provenance(story),
        _section_timeline(story),
        _section_comparison(story),
        _section_questions(story),
        _footer(story),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(story.title)}: debrief</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _section_title(story: _Story) -> str:
    parts = [f"<header>\n<h1>{_esc(story.title)}</h1>"]
    parts += [f'<p class="meta">{_esc(line)}</p>' for line in story.meta]
    if story.summary:
        parts.append(f'<p class="summary">{_esc(story.summary)}</p>')
    parts.append("</header>")
    return "\n".join(parts)


def _section_summary(story: _Story) -> str:
    p, o = story.played, story.other
    last = p.dates[-1]
    out = ['<section id="summary">', "<h2>What happened</h2>"]
    sentences = []
    gap, gap_o = _end(p, "gap_months"), _end(o, "gap_months")
    if _finite(gap) and gap <= 0.05:
        sentences.append(f"In {_month_text(last)}, China had the world's best AI model.")
    else:
        sentences.append(
            f"In {_month_text(last)}, China's best AI model was {_num(gap)} months behind the "
            f"leader's."
        )
    sentences.append(f"In the comparison world, {story.other_short}, it was {_num(gap_o)} months.")
    compute, compute_o = _end(p, "compute_h100e"), _end(o, "compute_h100e")
    mix = [
        f"{percent(_end(p, column))} {PROVENANCE_WORDS[column]}"
        for column, _ in PROVENANCE_COLUMNS
        if _finite(_end(p, column)) and _end(p, column) >= 0.0005
    ]
    sentences.append(
        f"China's labs held {_big(compute)} H100-equivalents of compute "
        f"({_big(compute_o)} in the comparison)" + (f": {_join(mix)}." if mix else ".")
    )
    smuggled, seized = _total(p, "chips_smuggled"), _total(p, "chips_seized")
    smuggled_o, seized_o = _total(o, "chips_smuggled"), _total(o, "chips_seized")
    if smuggled or seized or smuggled_o:
        sentences.append(
            f"Over the game {_count(smuggled)} chips were smuggled into China and "
            f"{_count(seized)} were seized on the way (comparison: {_count(smuggled_o)} "
            f"smuggled, {_count(seized_o)} seized)."
        )
    else:
        sentences.append("No chips were smuggled into China in either world.")
    sentences.append(_gray_sentence(story))
    out.append(f"<p>{_esc(' '.join(sentences))}</p>")
    out.append(f'<p class="note">{_esc(story.other_long)}</p>')
    out.append(_scores(story))
    out.append("</section>")
    return "\n".join(out)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _gray_sentence(story: _Story) -> str:
    p = story.played
    price = _china(p, "gray_price_usd")
    chips = p.labels("gray_chip")
    seen = np.flatnonzero(np.isfinite(price))
    if seen.size == 0:
        return "No gray market for AI chips appeared in this game."
    i = int(seen[-1])
    chip = ""
    if chips[i]:
        chip = f" for the {chips[i]}"
    when = "at the end" if i == len(price) - 1 else f"in {_month_text(p.dates[i])}"
    peak = float(np.nanmax(price))
    text = f"The gray-market price{chip} was {_money(price[i])} a chip {when}"
    if peak > price[i] * 1.05:
        text += f" (its peak: {_money(peak)})"
    end_o = _end(story.other, "gray_price_usd")
    if _finite(end_o):
        text += f"; in the comparison, {_money(end_o)} at the end"
    return text + "."


def _scores(story: _Story) -> str:
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
            f"<tr><td>{_esc(ROLES[r].name)}</td><td>{_esc(ROLES[r].objective)}</td>"
            f'<td>{_esc(score.text)}</td><td class="{"met" if score.met else ""}">{met}</td></tr>'
        )
    return (
        '<h3>Scores</h3>\n<table class="keep scores"><thead><tr><th>Team</th><th>Objective</th>'
        "<th>Result</th><th>Goal</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _section_charts(story: _Story) -> str:
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
        _figure_html(
            chart_blocs(story, "compute_h100e", "H100-equivalents (log scale)", log=True),
            "Line chart on a logarithmic scale: installed AI compute of each bloc in "
            f"H100-equivalents, as played (solid) and {short} (dashed).",
            "Compute held by each bloc's labs, in H100-equivalents (log scale: each gridline "
            f"is ten times the one below). Dashed: {short}.",
        ),
    ]
    if _any_smuggling(story):
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
    return '<section id="charts">\n<h2>Charts</h2>\n' + "\n".join(figures) + "\n</section>"


def _any_smuggling(story: _Story) -> bool:
    return any(
        _total(frame, column) > 0
        for frame in (story.played, story.other)
        for column in ("chips_smuggled", "chips_seized")
    )


def _checkpoints(dates: Sequence[str]) -> list[tuple[str, str]]:
    """Start, middle and end of the game (fewer when the game is that short)."""
    picks = [("start", 0), ("middle", len(dates) // 2), ("end", len(dates) - 1)]
    out, seen = [], set()
    for label, i in picks:
        if dates[i] not in seen:
            seen.add(dates[i])
            out.append((label, dates[i]))
    return out


def _section_provenance(story: _Story) -> str:
    p = story.played
    points = _checkpoints(p.dates)
    blocs = p.blocs
    head = "".join(f'<th class="num">{_esc(label)}</th>' for _, label in PROVENANCE_COLUMNS)
    rows = []
    for bloc in blocs:
        for j, (label, date) in enumerate(points):
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
        f'<td class="num">{percent(_end(story.other, c))}</td>' for c, _ in PROVENANCE_COLUMNS
    )
    rows.append(
        f'<tr class="group comparison"><td>China (comparison)</td>'
        f'<td class="when">end {_esc(other_end)}</td>{cells}</tr>'
    )
    table = (
        '<table class="keep provenance"><caption>Share of each bloc\'s compute (in '
        "H100-equivalents) by where it came from, at the start, middle and end of the game; "
        "each row adds up to 100% for a bloc that holds compute. China (comparison): "
        f"{_esc(story.other_short)}.</caption><thead><tr><th>Bloc</th><th>Month</th>"
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    chart = _figure_html(
        chart_shares(story),
        "Stacked area chart: the share of China's compute bought legally, as compliant "
        "variants, from domestic vendors, smuggled and rented abroad, month by month.",
        "Where China's compute came from, month by month (hatching tells the bands apart in "
        "black and white).",
    )
    return (
        '<section id="provenance">\n<h2>Where each bloc\'s compute came from</h2>\n'
        "<p><em>Legal</em>: bought from foreign vendors within the rules. <em>Compliant</em>: "
        "chips cut down to fit under the export rules (A800, H800, H20). <em>Domestic</em>: "
        "made by the bloc's own vendors (for China, Huawei and Cambricon). <em>Smuggled</em>: "
        "through the gray market. <em>Rented</em>: cloud time in other countries' data "
        "centres.</p>\n" + table + "\n" + chart + "\n</section>"
    )


# ----------------------------------------------------------------------------- the timeline
@dataclass
class _Row:
    date: str
    order: int  # decisions and events keep their order within a month
    kind: str  # "decision" | "facilitator" | "world"
    who: str
    what: str  # already HTML
    effect: str
    weight: int = 0
    news: str = ""  # the news item's kind, for world rows


def _section_timeline(story: _Story) -> str:
    head = '<section id="timeline">\n<h2>Timeline</h2>\n'
    s = story.session
    if s is None:
        return (
            head + "<p>A results table holds no decisions and no news, only the monthly numbers. "
            "To see who decided what and when, save a game (Ctrl+S in the game) and make the "
            "report from the saved .scgame file.</p>\n</section>"
        )
    rows, left_out = timeline_rows(s)
    if not rows:
        return head + "<p>Nothing was decided and nothing made the news.</p>\n</section>"
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
        f"{_esc(r.who)}</td><td>{r.what}</td>"
        + (f"<td>{_esc(r.effect)}</td>" if measured else "")
        + "</tr>"
        for r in rows
    )
    more = ""
    if left_out:
        kinds = Counter(r.news for r in left_out).most_common()
        what = _join([f"{n:,} {LEFT_OUT_WORDS.get(k, k.replace('_', ' '))}" for k, n in kinds])
        more = (
            f'<p class="note">Left out as less important: {what}. Every decision and '
            "facilitator's event is shown.</p>"
        )
    return (
        head
        + note
        + '\n<table class="timeline"><thead><tr><th>Date</th><th>Who</th><th>What</th>'
        + ("<th>Effect</th>" if measured else "")
        + "</tr></thead><tbody>"
        + body
        + "</tbody></table>\n"
        + more
        + "\n</section>"
    )


def timeline_rows(s: GameSession, limit: int = MAX_TIMELINE_ROWS) -> tuple[list[_Row], list[_Row]]:
    """Decisions, facilitator's events and the most important news, in date order, at most
    `limit` rows (decisions and facilitator's events are always kept); and how many news
    items were left out."""
    model = s.model
    mine = [
        _Row(
            d.date,
            i,
            "decision",
            ROLES[d.role].name,
            _decision_html(model, d.change),
            _effect_text(d.effect, model),
        )
        for i, d in enumerate(s.decisions)
    ]
    facilitator = [
        _Row(
            str(x.get("date", "")),
            i,
            "facilitator",
            "Facilitator's event",
            _esc(x.get("headline") or x.get("name") or x.get("id", "")),
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


def _pick(rows: list[_Row], room: int) -> list[_Row]:
    """The heaviest news first; within the weight class that does not fit whole, items spread
    evenly over the game rather than the first ones."""
    rows = [r for r in rows if r.weight > MINOR_WEIGHT]
    if len(rows) <= room:
        return rows
    kept: list[_Row] = []
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


def _world_rows(s: GameSession) -> list[_Row]:
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
    out: list[_Row] = []
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
        out.append(_Row(str(e.get("date", "")), i, "world", who, _esc(text), "", weight, kind))
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
            {b: float(v) for b, v in zip(model.bloc_ids, hist[0], strict=True) if _finite(v)}
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


def _decision_html(model: ChipWarModel, change: Any) -> str:
    """'Export enforcement effort: 4 x baseline' with the lever id, for a reader who wants to
    find it in `python main.py levers`."""
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
    return f"{_esc(name)}{_esc(target)}: {_esc(shown)} <code>({_esc(change.lever)})</code>"


def _effect_text(effect: dict[str, float] | None, model: ChipWarModel) -> str:
    if effect is None:
        return "not measured"
    names = dict(zip(model.bloc_ids, model.bloc_names, strict=True))
    items = sorted(
        ((b, v) for b, v in effect.items() if _finite(v) and abs(v) >= 0.05),
        key=lambda bv: -abs(bv[1]),
    )
    if not items:
        return "no visible change"
    return ", ".join(f"{names.get(b, b)} {v:+.1f}" for b, v in items)


# ----------------------------------------------------------------------------- comparison
def outcome_rows(story: _Story) -> list[tuple[str, str, float, float, Any]]:
    """(key, label, played, comparison, formatter) for the with-and-without table. Public so
    tests can read the same numbers the report prints."""
    p, o = story.played, story.other
    rows: list[tuple[str, str, float, float, Any]] = [
        (
            "china_frontier",
            "China's best model (capability index, end)",
            _end(p, "frontier_capability"),
            _end(o, "frontier_capability"),
            _num,
        ),
        (
            "china_gap",
            "China's gap to the leader (months, end)",
            _end(p, "gap_months"),
            _end(o, "gap_months"),
            _num,
        ),
        (
            "china_compute",
            "China's compute (H100-equivalents, end)",
            _end(p, "compute_h100e"),
            _end(o, "compute_h100e"),
            _big,
        ),
        (
            "smuggled",
            "Chips smuggled into China (whole game)",
            _total(p, "chips_smuggled"),
            _total(o, "chips_smuggled"),
            _count,
        ),
        (
            "seized",
            "Chips bound for China seized (whole game)",
            _total(p, "chips_seized"),
            _total(o, "chips_seized"),
            _count,
        ),
        (
            "china_revenue",
            "Chip vendors' revenue from China's labs, domestic included (whole game)",
            _total(p, "vendor_revenue_usd"),
            _total(o, "vendor_revenue_usd"),
            _money,
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
                _money,
            )
        )
    rows.append(
        (
            "us_frontier",
            "America's best model (capability index, end)",
            _end(p, "frontier_capability", "us"),
            _end(o, "frontier_capability", "us"),
            _num,
        )
    )
    return rows


def _section_comparison(story: _Story) -> str:
    rows = []
    for key, label, played, other, fmt in outcome_rows(story):
        diff = played - other if _finite(played) and _finite(other) else float("nan")
        rows.append(
            f'<tr data-key="{key}"><td>{_esc(label)}</td><td class="num">{_esc(fmt(played))}</td>'
            f'<td class="num">{_esc(fmt(other))}</td>'
            f'<td class="num">{_esc(_signed(diff, fmt))}</td></tr>'
        )
    table = (
        '<table class="keep outcomes"><thead><tr><th>At the end of the game</th>'
        f'<th class="num">{_esc(story.played_short.capitalize())}</th>'
        f'<th class="num">{_esc(story.other_short.capitalize())}</th>'
        '<th class="num">Difference</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
    )
    title = (
        "With and without your decisions"
        if story.session is not None
        else f"Against the '{story.baseline}' scenario"
    )
    out = [
        '<section id="comparison">',
        f"<h2>{_esc(title)}</h2>",
        f"<p>{_esc(story.other_long)}</p>",
        table,
        _mattered(story),
        "</section>",
    ]
    return "\n".join(out)


def _mattered(story: _Story) -> str:
    s = story.session
    if s is None:
        return ""
    mattered = s.decisions_that_mattered(MAX_MATTERED)
    head = "<h3>The decisions that mattered most</h3>\n"
    if not s.decisions:
        return head + "<p>No team moved a lever: both worlds are the same but for chance.</p>"
    if not mattered:
        return head + (
            '<p class="note">The effects of the decisions were not measured: the game measures '
            "them with its projections while it is played, and a loaded game cannot measure "
            "decisions made before it was saved.</p>"
        )
    items = "".join(
        f"<li>{_esc(d.date)}, {_esc(ROLES[d.role].name)}: {_decision_html(s.model, d.change)}"
        f" (projected capability at the end: {_esc(_effect_text(d.effect, s.model))})</li>"
        for d in mattered
    )
    return head + f"<ol>{items}</ol>"


def _section_questions(story: _Story) -> str:
    items = "".join(f"<li>{_esc(q)}</li>" for q in story.questions)
    where = "from the lesson" if story.session is not None and story.session.lesson else ""
    head = "Discussion questions" + (f" {where}" if where else "")
    return f'<section id="questions">\n<h2>{_esc(head)}</h2>\n<ol>{items}</ol>\n</section>'


def _footer(story: _Story) -> str:
    today = _dt.date.today().isoformat()
    return (
        "<footer>\n"
        f"<p>Made by Silicon Curtain from {_esc(story.source)}, {today}; the model's "
        "assumptions: docs/teaching.md.</p>\n"
        "<p>Silicon Curtain is a simplified model of the contest for AI chips, calibrated to "
        "public figures up to 2025. It shows how export rules, smuggling and domestic chips "
        "push on each other; its numbers are not forecasts, and a different seed or "
        "assumption moves them.</p>\n</footer>"
    )
