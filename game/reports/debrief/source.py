"""Reading what a report is made from: a saved game (.scgame), a live GameSession, or a results
table written by `run --out` (.csv or .parquet), each turned into the same Story so the rest
of the report never asks which it was.

A game carries its own comparison world (the ghost: the same world, seed, bots and
facilitator's events without the teams' decisions); a results table carries none, so the
comparison is a fresh run of a baseline scenario, and the Story says so.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from game.config.dates import format_month, parse_month
from game.config.errors import InputError, Problem
from game.config.files import MAX_TABLE_BYTES, check_input_file
from game.config.scenario import MAX_MONTHS, load_scenario
from game.config.world import default_world_data
from game.play.objectives import CHINA_BLOC, ROLES
from game.play.session import GameSession
from game.reports.debrief.table import REQUIRED_COLUMNS, Table
from game.reports.format import month_name
from game.sim.model import ChipWarModel

TABLE_SUFFIXES = (".csv", ".parquet")
GAME_SUFFIX = ".scgame"

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


@dataclass
class Story:
    """Everything a report shows, in one place, whatever the source: the sections read only
    this, so a game and a results table give the same report where they can."""

    source: str  # the file (or the game) it was made from, as shown in the footer
    title: str
    played: Table  # the results as played (or in the file)
    other: Table  # the comparison world over the same months
    other_short: str  # legends: "without your decisions" / "historical (seed 2022)"
    other_long: str  # one sentence saying what the comparison world is
    bloc_names: dict[str, str]
    meta: list[str] = field(default_factory=list)  # lines under the title
    summary: str | None = None  # the lesson's
    session: GameSession | None = None
    questions: Sequence[str] = ()
    baseline: str | None = None  # a results table's comparison scenario
    played_short: str = "as played"  # legends and table headings: "as played" / "this table"
    # China's gap over sampled futures, without and with the decisions (futures.paired_bands),
    # and a sentence saying what was sampled; None unless asked for (report --futures N)
    futures: pd.DataFrame | None = None
    futures_note: str = ""


def add_futures(
    story: Story, samples: int, seed: int, workers: int = 1, weighted: bool = False
) -> None:
    """Add to a game's story China's gap over `samples` sampled futures without and with its
    decisions, over the months played (game/batch/futures.py: paired_bands); `weighted`
    weighs each future by how well its world reproduces the record (plausibility.py)."""
    from game.batch.futures import future_jobs, paired_bands
    from game.batch.plausibility import judge_draws
    from game.batch.robustness import session_scenarios
    from game.config.experiment import drawn_parameters

    session = story.session
    if session is None:
        raise InputError(
            Problem(
                "a results table carries no decisions to replay in other futures; give a saved "
                "game (.scgame)",
                key="--futures",
            )
        )
    base, played, _, decisions = session_scenarios(session)
    months = max(1, session.model.turn)
    weights, weighting = None, ""
    if weighted:
        judged = judge_draws(future_jobs(base, samples, seed, months)[1], workers)
        weights = judged.weights
        weighting = (
            " Each future counts by how well its world reproduces the public record (the "
            "calibration targets, open ones left out), which leaves about "
            f"{judged.effective_samples:.1f} futures' worth of evidence."
        )
    story.futures = paired_bands(base, played, samples, seed, months, workers, weights=weights)
    drawn = drawn_parameters(base.parameters)
    story.futures_note = (
        f"{samples} futures, each a seed and a draw of the {len(drawn)} uncertain parameters "
        "the scenario leaves open (a Latin hypercube over their ranges in "
        "assets/data/parameters.yaml), run over the months played without and with "
        + (f"the {len(decisions)} decisions" if decisions else "the decisions (there were none)")
        + f"; the futures are the same in both worlds (master seed {seed})."
        + weighting
    )


def read_story(source: str | Path | GameSession, baseline: str, seed: int) -> Story:
    """The Story of a live game, a saved game or a results table. Raises InputError naming the
    file for anything a user can fix."""
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
    # a regular file (a FIFO would block); a results table of bounded size (a save's members
    # are checked when it is loaded)
    size = check_input_file(path, str(path), 2**63, "a saved game or a results table")
    kind = _kind_of(path)
    if kind != "game" and size > MAX_TABLE_BYTES:
        raise InputError(
            Problem(
                f"is {size:,} bytes; the most a results table may hold is "
                f"{MAX_TABLE_BYTES:,} bytes (one run of {MAX_MONTHS} months is about 1 MB)",
                file=str(path),
            )
        )
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
def _game_story(s: GameSession, shown: str) -> Story:
    model, ghost = s.model, s.ghost
    played = Table.from_model(model)
    if not len(played):
        raise InputError(Problem("the game has no month played yet: nothing to report", file=shown))
    other = Table.from_model(ghost)
    lesson = s.lesson or {}
    scenario = s.scenario
    first, last = played.dates[0], played.dates[-1]
    months = len(played)
    title = str(lesson.get("title") or f"Silicon Curtain: {scenario.name}")
    span = f"{month_name(first)} to {month_name(last)} ({months} months"
    span += ")" if s.finished else f" of {model.horizon}: the game was not finished)"
    teams = ", ".join(ROLES[r].name for r in s.roles)
    turn = f", handing over every {s.turn_months} months" if len(s.roles) > 1 else ""
    meta = [
        f"Scenario: {scenario.name}: {scenario.description}",
        f"Played: {span}",
        f"Teams: {teams}{turn}. Difficulty: {s.difficulty}. Seed: {s.rng}.",
    ]
    return Story(
        source=shown,
        title=title,
        played=played,
        other=other,
        other_short="without your decisions",
        other_long=_ghost_sentence(s),
        bloc_names=dict(zip(model.bloc_ids, model.bloc_names, strict=True)),
        meta=meta,
        summary=str(lesson["summary"]) if lesson.get("summary") else None,
        session=s,
        questions=[str(q) for q in lesson.get("questions") or ()] or DEFAULT_QUESTIONS_GAME,
    )


def _ghost_sentence(s: GameSession) -> str:
    """What the comparison world of a game is: the same scenario, seed and bots without the
    teams' decisions, which keeps the rules the teams' actors had at the start and takes none
    of history's later steps for them (GameSession.comparison_world)."""
    return (
        "The comparison world is the same scenario, seed and bot players, with the "
        "facilitator's events, but without the teams' decisions: "
        f"{s.comparison_world()}."
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


def _table_story(path: Path, played: pd.DataFrame, baseline: str, seed: int) -> Story:
    try:
        scenario = load_scenario(baseline)
    except InputError as exc:
        if any(x.file for x in exc.problems):
            raise  # a scenario file's own problems name their place
        raise InputError([Problem(x.message, key="--baseline") for x in exc.problems]) from None
    table = Table.from_frame(played)
    first, last = table.dates[0], table.dates[-1]
    months = parse_month(last) - scenario.start + 1
    if months > MAX_MONTHS:
        raise InputError(
            Problem(
                f"the table runs to {last}, {months:,} months from the '{scenario.name}' "
                f"scenario's start ({format_month(scenario.start)}); a run is at most "
                f"{MAX_MONTHS} months, so there is nothing to compare it with after "
                f"{format_month(scenario.start + MAX_MONTHS - 1)}",
                file=str(path),
            )
        )
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
    other = Table.from_model(base).only(set(table.dates))
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
    return Story(
        source=path.name,
        title=f"Silicon Curtain: results from {path.name}",
        played=table,
        other=other,
        other_short=short,
        other_long=long,
        bloc_names=names,
        meta=[
            f"Results table: {path.name} ({n_months} months, {month_name(first)} to "
            f"{month_name(last)}). The table does not say which scenario or seed made it.",
            f"Compared with: the '{scenario.name}' scenario, seed {seed}.",
        ],
        questions=DEFAULT_QUESTIONS_TABLE,
        baseline=scenario.name,
        played_short="this table",
    )
