"""The debrief report (game/reports/debrief/): one self-contained HTML file from a saved game or a
results table, that parses, embeds its charts, prints on A4, and shows numbers that agree with
the model's own results. The expectations are computed from the session and the results, never
copied from a report, so a wrong comparison or a wrong table fails here."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from game.config.errors import InputError
from game.play.session import GameSession
from game.reports.debrief import write_report
from game.sim.model import ChipWarModel
from tests.cli_helpers import run_cli

MONTHS = 24
PNG = b"\x89PNG\r\n\x1a\n"
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
QUESTIONS = ["Why did smuggling fall when the US raised enforcement?", "Who paid: A & B <both>?"]
SHARES = ["legal_share", "compliant_share", "domestic_share", "smuggled_share", "rented_share"]


# ----------------------------------------------------------------------------- parsing
class Page(HTMLParser):
    """The page's tags, checked for balance, with the table rows, images and sections it
    holds (enough structure for the tests, no third-party parser)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: list[str] = []
        self.images: list[dict[str, str]] = []
        self.rows: list[tuple[dict[str, str], list[str], str]] = []  # attrs, cells, section
        self.sections: dict[str, str] = {}  # id -> its text
        self.title = ""
        self._row: tuple[dict[str, str], list[str]] | None = None
        self._cell: list[str] | None = None
        self._section: str | None = None
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.seen.append(tag)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "img":
            self.images.append(a)
        elif tag == "section":
            self._section = a.get("id", "")
            self.sections[self._section] = ""
        elif tag == "tr":
            self._row = (a, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "title":
            self._in_title = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append((self._row[0], self._row[1], self._section or ""))
            self._row = None
        elif tag == "section":
            self._section = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._section is not None:
            self.sections[self._section] += data
        if self._in_title:
            self.title += data

    def section_rows(self, section: str) -> list[tuple[dict[str, str], list[str]]]:
        return [(a, cells) for a, cells, s in self.rows if s == section]


def number(cell: str) -> float:
    """'1,234' -> 1234.0 (the report's integer counts)."""
    return float(cell.replace(",", ""))


def pct(share: float) -> str:
    return f"{100.0 * share:.1f}%"


def china_total(model: ChipWarModel, column: str) -> float:
    df = model.results()
    return float(df.loc[df["bloc"] == "china", column].sum())


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def game(folder: Path) -> tuple[Path, GameSession]:
    """Two teams, one decision each, one facilitator's event, a lesson. The facilitator puts
    the October 2023 rule in force in both worlds (a US team replaces the scenario's own US
    rules), so there is a gray market for the US team's enforcement to act on."""
    s = GameSession("historical", ["us", "china"], months=MONTHS, turn_months=3)
    s.inject("density_rule")
    s.decide("enforcement", 4.0)
    while not s.finished:
        if s.handoff_due:
            s.next_player()
            if s.current_role == "china" and not any(d.role == "china" for d in s.decisions):
                s.decide("domestic_subsidy", 0.5)
        s.step()
    s.lesson = {
        "name": "demo",
        "title": "Demo <lesson> & co",
        "summary": "Two teams, one rule.",
        "questions": list(QUESTIONS),
        "events": None,
        "teacher": "lessons/demo.md",
    }
    path = folder / "demo.scgame"
    s.save(path)
    return path, GameSession.load(path)


@pytest.fixture(scope="module")
def table(folder: Path) -> pd.DataFrame:
    frame = ChipWarModel("historical", rng=1, months=MONTHS).run()
    frame.to_csv(folder / "run.csv", index=False)
    frame.to_parquet(folder / "run.parquet", index=False)
    return frame


@pytest.fixture(scope="module")
def pages(folder: Path, game: tuple[Path, GameSession], table: pd.DataFrame) -> dict[str, str]:
    out = {}
    for name, source in (
        ("game", game[0]),
        ("csv", folder / "run.csv"),
        ("parquet", folder / "run.parquet"),
    ):
        written = write_report(source, folder / f"{name}.html")
        assert written == folder / f"{name}.html"
        out[name] = written.read_text(encoding="utf-8")
    return out


# ----------------------------------------------------------------------------- the page
@pytest.mark.parametrize("kind", ["game", "csv", "parquet"])
def test_page_parses_with_balanced_tags(pages: dict[str, str], kind: str) -> None:
    page = Page(pages[kind])
    assert page.errors == []
    assert page.stack == []
    for tag in ("html", "head", "body", "title", "style", "h1"):
        assert tag in page.seen, tag
    assert page.seen.count("title") == 1 and page.title.strip()
    assert pages[kind].startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in pages[kind]
    ids = list(page.sections)
    assert ids == [
        "summary",
        "charts",
        "provenance",
        "timeline",
        "comparison",
        "questions",
    ]


@pytest.mark.parametrize("kind", ["game", "csv", "parquet"])
def test_self_contained_images_and_no_external_resources(pages: dict[str, str], kind: str) -> None:
    page = Page(pages[kind])
    assert len(page.images) >= 4
    for img in page.images:
        src = img.get("src", "")
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
        assert img.get("alt", "").strip()
    text = pages[kind].lower()
    for external in ('src="http', 'href="http', "<link", "<script", "@import", "url("):
        assert external not in text, external


def test_css_prints_on_a4(pages: dict[str, str]) -> None:
    style = re.search(r"<style>(.*?)</style>", pages["game"], re.S)
    assert style is not None
    css = style.group(1)
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css)
    assert "@media print" in css and "break-inside: avoid" in css


def test_text_from_the_save_is_escaped(pages: dict[str, str]) -> None:
    assert "Demo &lt;lesson&gt; &amp; co" in pages["game"]
    assert "<lesson>" not in pages["game"]


# ----------------------------------------------------------------------------- numbers
def _provenance(page: Page) -> dict[tuple[str, str], list[str]]:
    return {
        (a["data-bloc"], a["data-date"]): cells[2:]
        for a, cells in page.section_rows("provenance")
        if "data-bloc" in a
    }


def _check_shares(page: Page, results: pd.DataFrame) -> None:
    table = _provenance(page)
    dates = sorted(results["date"].unique())
    checkpoints = {dates[0], dates[len(dates) // 2], dates[-1]}
    assert {d for _, d in table} == checkpoints
    for bloc in results["bloc"].unique():
        for date in checkpoints:
            row = results[(results["bloc"] == bloc) & (results["date"] == date)].iloc[0]
            assert table[(bloc, date)] == [pct(row[c]) for c in SHARES], (bloc, date)


def test_provenance_table_holds_the_game_shares(
    pages: dict[str, str], game: tuple[Path, GameSession]
) -> None:
    results = game[1].model.results()
    _check_shares(Page(pages["game"]), results)
    end = results[(results["bloc"] == "china")].iloc[-1]
    assert end["smuggled_share"] > 0  # the fixture has a gray market to show
    assert pct(end["smuggled_share"]) in pages["game"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_provenance_table_holds_the_file_shares(
    pages: dict[str, str], table: pd.DataFrame, kind: str
) -> None:
    _check_shares(Page(pages[kind]), table)


def _outcomes(page: Page) -> dict[str, list[str]]:
    return {a["data-key"]: cells for a, cells in page.section_rows("comparison") if a}


def test_comparison_shows_enforcement_cut_smuggling(
    pages: dict[str, str], game: tuple[Path, GameSession]
) -> None:
    s = game[1]
    played, ghost = china_total(s.model, "chips_smuggled"), china_total(s.ghost, "chips_smuggled")
    assert played < ghost  # the US team's enforcement, and nothing else, differs
    rows = _outcomes(Page(pages["game"]))
    _, shown_played, shown_ghost, diff = rows["smuggled"]
    assert number(shown_played) == round(played)
    assert number(shown_ghost) == round(ghost)
    assert number(shown_played) < number(shown_ghost)
    assert diff.startswith("−")
    seized = rows["seized"]
    assert number(seized[1]) == round(china_total(s.model, "chips_seized"))


def test_results_file_is_compared_with_the_baseline_run(
    pages: dict[str, str], table: pd.DataFrame
) -> None:
    baseline = ChipWarModel("historical", rng=2022, months=MONTHS)
    baseline.run()
    rows = _outcomes(Page(pages["csv"]))
    china = table[table["bloc"] == "china"]
    assert number(rows["smuggled"][1]) == round(china["chips_smuggled"].sum())
    assert number(rows["smuggled"][2]) == round(china_total(baseline, "chips_smuggled"))
    assert rows["china_gap"][1] == f"{china['gap_months'].iloc[-1]:,.1f}"
    assert "historical" in pages["csv"] and "seed 2022" in pages["csv"]


# ----------------------------------------------------------------------------- timeline, lesson
def test_timeline_holds_decisions_and_events_in_date_order(
    pages: dict[str, str], game: tuple[Path, GameSession]
) -> None:
    s = game[1]
    rows = Page(pages["game"]).section_rows("timeline")
    body = [(a.get("class", ""), cells) for a, cells in rows if a.get("class")]
    dates = [cells[0] for _, cells in body]
    assert dates == sorted(dates)
    decisions = [cells for cls, cells in body if cls == "decision"]
    assert len(decisions) == len(s.decisions) == 2
    for d, cells in zip(s.decisions, decisions, strict=True):
        assert cells[0] == d.date
        assert d.change.lever in cells[2]
    facilitator = [cells for cls, cells in body if cls == "facilitator"]
    assert [c[0] for c in facilitator] == [x["date"] for x in s.injected]
    assert s.injected[0]["headline"] in facilitator[0][2]
    # the facilitator's rule change is shown once, as the facilitator's, not again as news
    assert sum(s.injected[0]["headline"] in cells[2] for _, cells in body) == 1
    assert len(body) <= 60


def test_lesson_questions_are_listed(pages: dict[str, str]) -> None:
    page = Page(pages["game"])
    text = page.sections["questions"]
    for q in QUESTIONS:
        assert q in text
    assert "<ol>" in pages["game"].split('id="questions"')[1]


def test_results_file_says_it_holds_no_decisions(pages: dict[str, str]) -> None:
    text = " ".join(Page(pages["csv"]).sections["timeline"].split())
    assert "holds no decisions" in text and "save a game" in text


def test_live_session_is_accepted(folder: Path, game: tuple[Path, GameSession]) -> None:
    out = write_report(game[1], folder / "live.html")
    assert Page(out.read_text(encoding="utf-8")).errors == []
    assert [p.name for p in folder.glob(".live.html*")] == []  # no temporary file left


# ----------------------------------------------------------------------------- bad input
def test_bad_tables_name_the_file_and_what_is_missing(folder: Path, table: pd.DataFrame) -> None:
    partial = folder / "partial.csv"
    table.drop(columns=["smuggled_share", "gap_months"]).to_csv(partial, index=False)
    with pytest.raises(InputError, match=r"partial\.csv.*gap_months.*smuggled_share"):
        write_report(partial, folder / "x.html")
    runs = folder / "runs.csv"
    pd.concat([table.assign(run_id=0), table.assign(run_id=1)]).to_csv(runs, index=False)
    with pytest.raises(InputError, match=r"runs\.csv.*run_id"):
        write_report(runs, folder / "x.html")
    with pytest.raises(InputError, match="--baseline: unknown scenario 'nowhere'"):
        write_report(folder / "run.csv", folder / "x.html", baseline="nowhere")
    empty = GameSession("historical", ["us"], months=3)
    with pytest.raises(InputError, match="no month played"):
        write_report(empty, folder / "x.html")
    assert not (folder / "x.html").exists()


def test_cli_writes_the_report(folder: Path, game: tuple[Path, GameSession]) -> None:
    out = folder / "cli.html"
    done = run_cli("report", game[0], "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}" in done.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["missing", "text_save", "foreign_csv", "out_not_html"])
def test_cli_bad_input_exits_2_with_a_message(folder: Path, table: pd.DataFrame, case: str) -> None:
    out = folder / "bad.html"
    if case == "missing":
        source, named = folder / "nowhere.scgame", "nowhere.scgame"
    elif case == "text_save":
        source = folder / "x.scgame"
        source.write_text("not a game\n")
        named = "x.scgame"
    elif case == "foreign_csv":
        source = folder / "foreign.csv"
        source.write_text("a,b\n1,2\n")
        named = "foreign.csv"
    else:
        source, out, named = folder / "run.csv", folder / "report.txt", "report.txt"
    done = run_cli("report", source, "--out", out)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()
    if case == "foreign_csv":
        assert "missing the columns date, bloc" in done.stderr


def test_the_report_draws_chinas_gap_over_sampled_futures(
    folder: Path, game: tuple[Path, GameSession]
) -> None:
    """With --futures, the gap without and with the decisions over the same sampled futures,
    saying what was sampled; the two worlds share their futures, so with no decisions they
    would coincide, and the bands hold their medians."""
    out = folder / "futures.html"
    done = run_cli("report", game[0], "--out", out, "--futures", "3", "--workers", "1", timeout=180)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "across what we don&#x27;t know: 3 futures" in page
    assert "the 2 decisions" in page and page.count("data:image/png") == 6
    from game.batch.futures import paired_bands
    from game.batch.robustness import session_scenarios

    base, played, _, _ = session_scenarios(game[1])
    bands = paired_bands(base, base, 3, 2022, months=6)
    mine, other = (bands[bands["world"] == w].reset_index(drop=True) for w in ("played", "without"))
    pd.testing.assert_frame_equal(mine.drop(columns="world"), other.drop(columns="world"))
    assert (bands["p10"] <= bands["median"]).all() and (bands["median"] <= bands["p90"]).all()
    assert (bands["p90"] > bands["p10"]).any()  # the unknowns spread the futures


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--futures", "2"], "a results table carries no decisions"),
        (["--workers", "2"], "--workers goes with --futures"),
        (["--futures", "0"], "a number of futures from 1 to 1000"),
    ],
)
def test_report_futures_bad_input_exits_2(
    folder: Path, table: pd.DataFrame, extra: list[str], message: str
) -> None:
    done = run_cli("report", folder / "run.csv", "--out", folder / "f.html", *extra)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
