"""Command line: `python main.py [run|scenarios|levers] ...`.

Usage and input errors (a bad flag, a bad scenario file, an unknown lever) print one clear
message naming the place and exit with status 2; they never show a traceback. Results files are
written whole or not at all.

Each command imports the layer it runs when it runs (the model, the batch runner, the reports,
the game window, and experiment files, which need pandas): pygame, matplotlib, pandas, Mesa
and Dask take seconds to import between them, and `--help`, `scenarios` or a usage error should
not wait for them.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from game.config import texts
from game.config.errors import InputError, Problem
from game.config.experiment import MAX_RUNS, MAX_SAMPLES
from game.config.files import check_writable
from game.config.lesson import lesson_names, load_lesson
from game.config.levers import default_policy_spec
from game.config.paths import user_dir
from game.config.roles import default_roles
from game.config.scenario import MAX_MONTHS, load_scenario, scenario_names, with_overrides

EXIT_USAGE = 2
# how the user started us: the console script of an installed package, or main.py in a checkout
PROG = "silicon-curtain" if Path(sys.argv[0]).name == "silicon-curtain" else "python main.py"
DEFAULT_SEED = 2022
OUT_FORMATS = (".csv", ".parquet")
# The highest `sweep --max-runs` (a list of 10^7 runs alone takes gigabytes).
MAX_RUNS_FLAG = 10_000_000


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors read like ours: one line of what is wrong, then how to get help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\nTry '{self.prog} --help'.\n")


def _whole_number(text: str, low: int, high: int, expected: str) -> int:
    """An argparse value: a whole number in [low, high], else one line naming what was expected."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def _months(text: str) -> int:

    return _whole_number(text, 1, MAX_MONTHS, f"a number of months from 1 to {MAX_MONTHS}")


def _positive(text: str) -> int:
    return _whole_number(text, 1, 100_000, "a number from 1 to 100000")


def _nonnegative(text: str) -> int:
    return _whole_number(text, 0, 1200, "a number from 0 to 1200")


def _samples(text: str) -> int:
    return _whole_number(text, 1, MAX_SAMPLES, f"a number of futures from 1 to {MAX_SAMPLES}")


def _max_runs(text: str) -> int:
    return _whole_number(text, 1, MAX_RUNS_FLAG, f"a number of runs from 1 to {MAX_RUNS_FLAG:,}")


def _seed(text: str) -> int:
    return _whole_number(text, 0, 2**63 - 1, "a seed from 0 to 2^63-1")


def _openable(path: Path) -> Path:
    """A file the user is to open: relative to the current folder when it is inside it (a
    checkout), else in full (an installed package's data)."""
    path = path.resolve()
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _role_id(text: str) -> str:

    if text not in default_roles():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(map(repr, default_roles()))})"
        )
    return text


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(
            Problem(f"expected WIDTHxHEIGHT such as 1280x800, got {text!r}", key="--size")
        ) from None
    if w < 1024 or h < 700 or w > 7680 or h > 4320:
        raise InputError(
            Problem(f"expected a size from 1024x700 to 7680x4320, got {text}", key="--size")
        )
    return w, h


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Silicon Curtain: export controls on AI chips, the gray market around them, "
        "and what they do to each bloc's AI models. With no command, opens the game (or, with no "
        "display, runs the default scenario headless).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_run(sub)
    _add_calibrate(sub)
    _add_sweep(sub)
    _add_analyze(sub)
    _add_discover(sub)
    _add_search(sub)
    _add_compare(sub)
    _add_reproduce(sub)
    _add_play(sub)
    _add_scenarios(sub)
    _add_lessons(sub)
    _add_report(sub)
    _add_levers(sub)
    _add_host(sub)
    return parser


def _add_run(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a scenario headless and print a yearly table",
        description="Run a scenario month by month and print, for each bloc and year, frontier "
        "capability, the gap to the leader in months, installed compute in H100-equivalents, "
        "domestic and smuggled shares, and chips smuggled and seized.",
    )
    run.add_argument(
        "scenario",
        nargs="?",
        default="historical",
        help="a scenario name (see 'scenarios') or a path to a scenario YAML file "
        "(default: historical)",
    )
    run.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        help=f"random seed; the same seed gives the same results (default: {DEFAULT_SEED})",
    )
    run.add_argument(
        "--months",
        type=_months,
        default=None,
        help="months to simulate from the scenario's start (default: the scenario's horizon)",
    )
    run.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter (assets/data/parameters.yaml) or set a lever before "
        "the start, e.g. --set smuggling_detection=0.2 --set enforcement=2 "
        "--set destination.china=embargoed; repeatable",
    )
    run.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="also write the monthly results table (one row per month and bloc) "
        "to FILE.csv or FILE.parquet",
    )
    run.add_argument("--events", action="store_true", help="also print the event log (the news)")
    run.add_argument(
        "--samples",
        type=_samples,
        default=None,
        metavar="N",
        help="run N futures, each with the uncertain parameters drawn over their ranges "
        "(a Latin hypercube; those the scenario or --set fixes stay fixed) and its own seed "
        "from --seed, and print each cell as median [10%%..90%%]; with --out, the table of "
        f"every future (a sample column) and FILE's draws beside it (1 to {MAX_SAMPLES})",
    )
    run.add_argument(
        "--weighted",
        action="store_true",
        help="with --samples: weigh each future by how well its world reproduces the public "
        "record (the calibration targets, 2023-2026; one more run per future) and print the "
        "weighted band, the effective number of futures and the targets that weigh most",
    )
    run.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="with --samples: parallel processes (default: the number of cores, at most 8)",
    )


def _add_calibrate(sub: Any) -> None:
    cal = sub.add_parser(
        "calibrate",
        help="compare the historical scenario with public figures, over many seeds",
        description="Run the historical scenario over many seeds, in parallel, and print each "
        "public target (assets/data/targets.yaml) with its accepted range and source, the "
        "simulated median and 10-90%% band, and whether the median falls in range.",
    )
    cal.add_argument(
        "--seeds", type=_positive, default=20, help="runs with different seeds (default: 20)"
    )
    cal.add_argument(
        "--sample",
        type=_positive,
        default=None,
        metavar="N",
        help="instead, N runs that each draw every parameter from its plausible "
        "range (Latin hypercube): shows which targets are robust and what moves them",
    )
    cal.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="parallel processes (default: the number of cores, at most 8)",
    )
    cal.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        help=f"master seed the runs' seeds are drawn from (default: {DEFAULT_SEED})",
    )
    cal.add_argument(
        "--out",
        metavar="FILE.csv",
        default=None,
        help="also write the table as CSV: target, source, low, high, median, p10, p90, "
        "in_range, open",
    )
    cal.add_argument(
        "--record",
        metavar="DIR",
        default=None,
        help="also write the validation record into DIR: a Markdown page (what was compared "
        "with what, how well, what still fails and why) and a chart of each trajectory "
        "against the model's band (the project keeps one in docs/validation/)",
    )


def _add_sweep(sub: Any) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="run an experiment: many runs over levers, uncertainties and seeds",
        description="Run every run of an experiment file (experiments/*.yaml: a scenario, levers, "
        "uncertain parameters, a design and replications) on a process pool or a Dask cluster. "
        "Results stream to the output folder as runs finish; running the same command again "
        "resumes where it stopped. With --from-save, replay a saved game's decisions across "
        "many futures instead.",
    )
    sweep.add_argument(
        "experiment",
        nargs="?",
        default=None,
        help="an experiment file, or a name from experiments/",
    )
    sweep.add_argument(
        "--from-save",
        dest="from_save",
        metavar="GAME",
        default=None,
        help="a saved game (.scgame): how robust is the policy played in it?",
    )
    sweep.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="parallel processes (default: the number of cores)",
    )
    sweep.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder (default: sweeps/<experiment name>)",
    )
    sweep.add_argument(
        "--backend",
        choices=["local", "dask"],
        default="local",
        help="local process pool (default) or Dask",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --backend dask: an existing cluster's scheduler "
        "(e.g. tcp://10.0.0.5:8786); without it, a local Dask cluster",
    )
    sweep.add_argument(
        "--format",
        choices=["parquet", "csv"],
        default="parquet",
        help="format of the experiments and outcomes tables (default: parquet)",
    )
    sweep.add_argument(
        "--samples",
        type=_positive,
        default=None,
        help="with --from-save: draws of the uncertain parameters (default: 16; "
        "an experiment file sets its own)",
    )
    sweep.add_argument(
        "--replications",
        type=_positive,
        default=None,
        help="with --from-save: seeds per draw (default: 4; an experiment file sets its own)",
    )
    sweep.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help=f"with --from-save: master seed of the draws and seeds (default: {DEFAULT_SEED}; "
        "an experiment file sets its own)",
    )
    sweep.add_argument(
        "--max-runs",
        dest="max_runs",
        type=_max_runs,
        default=MAX_RUNS,
        metavar="N",
        help=f"refuse a sweep of more than N runs (default: {MAX_RUNS:,}; "
        f"at most {MAX_RUNS_FLAG:,})",
    )


def _add_analyze(sub: Any) -> None:
    analyze = sub.add_parser(
        "analyze",
        help="plots and a summary of a sweep's results",
        description="Write plots (PNG) and a Markdown summary of a sweep folder into "
        "DIR/analysis: fan charts of capability by policy, the gap by policy, smuggling against "
        "the lever that varies, trade-offs between objectives and sensitivity indices, and a "
        "per-run table (per_run.parquet and .csv) of levers, uncertainties, seeds and outcomes.",
    )
    analyze.add_argument("folder", metavar="DIR", help="a folder written by 'sweep'")


def _add_search(sub: Any) -> None:
    search = sub.add_parser(
        "search",
        help="robust policy search: the Pareto set of lever settings over sampled futures",
        description="Search the levers an experiment file's `search:` section names with "
        "epsilon-NSGA-II (platypus), judging every candidate policy in the same sampled futures "
        "by the robustness measure the file gives each outcome (mean, a percentile, regret, "
        "satisficing). Writes into the folder the Pareto set (pareto.csv), the convergence "
        "(convergence.csv, convergence.png: hypervolume and epsilon progress), a "
        "parallel-coordinates chart (parallel.png) and each Pareto policy as a scenario file "
        "(policies/policy_NN.yaml, which `play` and `run` load). The state is saved after "
        "every generation: running the same command again resumes.",
    )
    search.add_argument("experiment", help="an experiment file with a search: section")
    search.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: searches/<name>)"
    )
    search.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="parallel processes (default: the number of cores)",
    )
    search.add_argument(
        "--backend",
        choices=["local", "dask"],
        default="local",
        help="local process pool (default) or Dask",
    )
    search.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --backend dask: an existing cluster's scheduler; without it, a local cluster",
    )
    search.add_argument(
        "--generations",
        type=_positive,
        default=None,
        metavar="N",
        help="stop after N more generations (saved; the same command resumes)",
    )


def _coverage(text: str) -> float:
    """An argparse value: a share above 0 and at most 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share above 0 and at most 1, got {text!r}")
    return value


def _add_discover(sub: Any) -> None:
    discover = sub.add_parser(
        "discover",
        help="scenario discovery: which levers and uncertainties lead to an outcome",
        description="Find the conditions (ranges of levers and uncertainties) under which a "
        "sweep's runs meet --where, with PRIM and CART (the EMA Workbench); writes "
        "DIR/discovery/<condition>/ (summary.md, the boxes as CSV, PRIM's peeling trade-off "
        "chart) and prints the summary. Outcomes: those of 'analyze' (final_gap, "
        "china_frontier, smuggled, seized, gray_price, china_revenue) and the experiment "
        "file's own.",
    )
    discover.add_argument("folder", metavar="DIR", help="a folder written by 'sweep'")
    discover.add_argument(
        "--where",
        required=True,
        metavar="CONDITION",
        help='the condition on one outcome, e.g. "final_gap < 3" (<, <=, >, >=)',
    )
    discover.add_argument(
        "--coverage",
        type=_coverage,
        default=0.8,
        metavar="SHARE",
        help="the least coverage of the box PRIM reports (default: 0.8)",
    )


def _add_compare(sub: Any) -> None:
    compare = sub.add_parser(
        "compare",
        help="which outcomes moved between two results (files or sweep folders)",
        description="Pair the runs of A and B by seed (and sample, or policy and draw, in a "
        "sweep), reduce each to yearly outcomes per bloc (frontier, gap, compute, domestic and "
        "smuggled shares at year end; vendor revenue, chips smuggled and seized over the year) "
        "and print those that moved beyond seed noise: with one pair, or a constant "
        "difference, any difference (the same seed must give the same bits); else a paired t "
        "test, Bonferroni-corrected over every cell (game/batch/compare.py says why). Exit "
        "status: 0 when nothing moved, 1 when something did, 2 on bad input.",
    )
    compare.add_argument("a", metavar="A", help="a results file (.csv, .parquet) or sweep folder")
    compare.add_argument("b", metavar="B", help="the same kind of results, to compare with A")
    compare.add_argument(
        "--k",
        type=_positive_float,
        default=None,
        metavar="K",
        help="moved: a mean paired difference beyond K standard errors (default: the "
        "Bonferroni-corrected critical value of the paired t test, family-wise error 1%%)",
    )
    compare.add_argument(
        "--all", action="store_true", help="show every outcome cell, not only those that moved"
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def _add_reproduce(sub: Any) -> None:
    rep = sub.add_parser(
        "reproduce",
        help="run a results file's recorded command again and say if the result is identical",
        description="Read FILE's provenance (a .parquet's metadata, a .csv's sidecar "
        "FILE.csv.provenance.json, a sweep folder's manifest.json), run the command it "
        "records into a temporary folder and compare: exit 0 when every value is identical, "
        "1 when not (with the outcomes that moved and the input files or model version that "
        "changed), 2 when FILE has no usable provenance or what its command needs is gone (a "
        "saved game, an analysed sweep folder).",
    )
    rep.add_argument("file", metavar="FILE", help="a results file or a sweep folder")
    rep.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="for sampled futures, a sweep or a calibration: parallel processes (results do "
        "not depend on it)",
    )


def _add_play(sub: Any) -> None:
    play = sub.add_parser(
        "play",
        help="open the game window (the default command)",
        description="Open the game: pick a scenario, a role and a difficulty, then set levers "
        "month by month. Without a display it says so and runs the headless default instead.",
    )
    play.add_argument(
        "--lesson",
        default=None,
        metavar="NAME",
        help="start a lesson (see `python main.py lessons`): its scenario, teams, turn length "
        "and horizon are set",
    )
    play.add_argument("--scenario", default=None, help="scenario preselected (default: historical)")
    play.add_argument(
        "--role",
        type=_role_id,
        default=None,
        help="role preselected: us, china, transit, vendor or lab (assets/data/roles.yaml; "
        "default: the first there, us)",
    )
    play.add_argument("--difficulty", choices=["easy", "normal", "hard"], default=None)
    play.add_argument(
        "--teams",
        default=None,
        metavar="ROLE,ROLE",
        help="other roles played by people in turn (hot seat), e.g. china,vendor",
    )
    play.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help=f"random seed (default: {DEFAULT_SEED}, or the lesson's)",
    )
    play.add_argument(
        "--size", default="1280x800", metavar="WxH", help="window size (default: 1280x800)"
    )
    play.add_argument("--fullscreen", action="store_true", help="start in fullscreen (F11 toggles)")
    play.add_argument(
        "--language",
        choices=texts.languages(),
        default=texts.ENGLISH,
        help="the language of the game's text: a file assets/translations/silicon_curtain.<code>"
        ".json (docs/translating.md; default: en)",
    )
    play.add_argument(
        "--saves",
        default=None,
        metavar="DIR",
        help="where saved games and their debrief reports go "
        f"(default: {str(user_dir('saves')).replace('%', '%%')})",
    )
    play.add_argument(
        "--screenshot",
        default=None,
        metavar="FILE.png",
        help="play headless and save a picture instead of opening the window",
    )
    play.add_argument(
        "--autoplay",
        type=_nonnegative,
        default=0,
        metavar="MONTHS",
        help="with --screenshot: months to play before the picture",
    )
    play.add_argument(
        "--scene",
        choices=["title", "play", "debrief"],
        default="play",
        help="with --screenshot: which screen to picture (default: play)",
    )


def _port(text: str) -> int:
    return _whole_number(text, 0, 65535, "a port from 1 to 65535 (0: any free port)")


def _add_host(sub: Any) -> None:
    host = sub.add_parser(
        "host",
        help="host a networked class: teams play from browsers (docs/classroom-protocol.md)",
        description="Host a class on this machine: one room, the lesson's teams played from "
        "browsers on the school network, turns resolved when every team has submitted. "
        "Prints the join address, its QR code, the room code and the facilitator's link.",
    )
    host.add_argument("scenario", nargs="?", default=None, help="a scenario (with --roles)")
    host.add_argument("--lesson", default=None, metavar="NAME", help="a lesson (see `lessons`)")
    host.add_argument(
        "--roles", default=None, metavar="ROLE,ROLE", help="with a scenario: the teams, in order"
    )
    host.add_argument("--port", type=_port, default=8765, help="default: 8765")
    host.add_argument(
        "--bind",
        default="127.0.0.1",
        help="the address to serve on (default: 127.0.0.1, this computer only; for a class, "
        "this machine's address on the school network)",
    )
    host.add_argument(
        "--room-dir",
        default=None,
        metavar="DIR",
        help="the room's folder; an existing room there is resumed (default: a new folder in "
        f"{str(user_dir('rooms')).replace('%', '%%')})",
    )
    host.add_argument(
        "--no-window", action="store_true", help="serve from the terminal, no projector window"
    )
    host.add_argument("--seed", type=_seed, default=None, help="random seed")
    host.add_argument(
        "--size", default="1280x800", metavar="WxH", help="window size (default: 1280x800)"
    )
    host.add_argument("--fullscreen", action="store_true", help="start in fullscreen (F11 toggles)")


def cmd_host(args: argparse.Namespace) -> int:
    from game.net.hosting import announce, first_save, open_room, serve_headless
    from game.net.server import HostServer
    from game.net.store import RoomStore

    if args.lesson is not None and (args.scenario or args.roles):
        raise InputError(
            Problem("a lesson sets the scenario and the teams; leave out the scenario and --roles")
        )
    size = _size(args.size)
    resuming = args.room_dir is not None and RoomStore.holds_room(args.room_dir)
    if not resuming:
        if args.lesson is not None:
            load_lesson(args.lesson)  # a bad name fails here, before the world is built
        elif args.scenario is None or args.roles is None:
            raise InputError(Problem("expected --lesson NAME, or SCENARIO --roles us,china"))
        else:
            load_scenario(args.scenario)
    roles = [r.strip() for r in (args.roles or "").split(",") if r.strip()]
    room, store = open_room(
        args.room_dir, lesson=args.lesson, scenario=args.scenario, roles=roles, seed=args.seed
    )
    server = HostServer(room, args.bind, args.port, report_path=store.report_path)
    server.start()
    if not resuming:
        try:
            first_save(room, store)
        except InputError:
            server.stop()
            raise
    print(announce(server, store, resuming), flush=True)
    if not args.no_window and not _no_display():
        from game.ui.host_window import run_host_window

        try:
            run_host_window(server, size, args.fullscreen)
        finally:
            server.stop()
        return 0
    return serve_headless(server, store)


def _add_scenarios(sub: Any) -> None:
    sub.add_parser(
        "scenarios",
        help="list the scenarios with a one-line description",
        description="List the scenarios in policies/ with their descriptions.",
    )


def _add_lessons(sub: Any) -> None:
    sub.add_parser(
        "lessons",
        help="list the lessons for a class, with their teams and teacher's pages",
        description="List the lessons in lessons/: title, teams, months and turn length, and "
        "the teacher's page to read before class. Start one with play --lesson NAME.",
    )


def _add_report(sub: Any) -> None:
    report = sub.add_parser(
        "report",
        help="write the debrief report of a saved game or a results file (HTML)",
        description="Write one self-contained HTML file (charts embedded, prints on A4) that "
        "explains a game: what happened, where each bloc's compute came from, the decisions "
        "and events, the comparison with the world without the players' changes and the "
        "lesson's discussion questions. SOURCE is a saved game (.scgame) or a results table "
        "written by `run --out` (.csv or .parquet).",
    )
    report.add_argument("source", metavar="SAVE_OR_RESULTS", help="a .scgame, .csv or .parquet")
    report.add_argument(
        "--out",
        metavar="FILE.html",
        default="report.html",
        help="where to write the report (default: report.html)",
    )
    report.add_argument(
        "--baseline",
        metavar="SCENARIO",
        default="historical",
        help="for a results file: the scenario to compare with (default: historical; a saved "
        "game is compared with its own world without the players' decisions)",
    )
    report.add_argument(
        "--futures",
        type=_samples,
        default=None,
        metavar="N",
        help="a saved game: also draw China's gap over N sampled futures (every uncertain "
        "parameter drawn over its range, as run --samples), without and with the decisions",
    )
    report.add_argument(
        "--weighted",
        action="store_true",
        help="with --futures: weigh each future by how well its world reproduces the public "
        "record (as run --samples --weighted)",
    )
    report.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="with --futures: parallel processes (default: the number of cores, at most 8)",
    )
    report.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        help=f"for a results file: the baseline run's seed (default: {DEFAULT_SEED})",
    )


def _add_levers(sub: Any) -> None:
    sub.add_parser(
        "levers",
        help="list every lever with its range, unit and meaning",
        description="List every policy lever: who sets it, its range and unit, what it "
        "does in the model and the real policy it mirrors.",
    )


# ----------------------------------------------------------------------------- commands
def _check_out(path: str) -> Path:

    out = Path(path)
    if path and out.suffix.lower() not in OUT_FORMATS:
        raise InputError(
            Problem(
                f"expected a file ending in {' or '.join(OUT_FORMATS)}, got '{out.name}'",
                key="--out",
            )
        )
    return check_writable(path, "--out")


def cmd_run(args: argparse.Namespace) -> int:

    # Check every input before the (slower) model is even imported.
    out = _check_out(args.out) if args.out is not None else None
    scenario = load_scenario(args.scenario)
    if args.sets:
        scenario = with_overrides(scenario, args.sets)

    if args.weighted and args.samples is None:
        raise InputError(Problem("--weighted goes with --samples", key="--weighted"))
    workers = _workers_with(args, "--samples", args.samples is not None)
    if workers is not None:
        return _run_samples(args, scenario, out, workers)

    from game.sim.model import ChipWarModel
    from game.sim.results import format_summary, yearly_summary

    model = ChipWarModel(scenario, rng=args.seed, months=args.months)
    results = model.run()
    if out is not None:
        from game.batch.output import save_results

        save_results(results, out, _run_provenance(args, scenario, out), "--out")
    print(f"Scenario: {scenario.name} - {scenario.description}")
    print(
        f"Seed {args.seed}, {model.turn} months from {results['date'].iloc[0]} to {model.date}"
        + (f"; overrides: {', '.join(args.sets)}" if args.sets else "")
    )
    print()
    print(format_summary(yearly_summary(results)))
    print()
    print(
        "frontier: capability index of the bloc's best model (10 points per tenfold effective "
        "training compute).\ngap: months since the leading bloc reached that capability. "
        "compute: installed chips in H100-equivalents.\ndomestic, smuggled: shares of that "
        "compute at year end. chips smuggled, seized: totals over the year."
    )
    if args.events:
        print()
        for e in model.events:
            print(f"{e['date']}  {e['text']}")
    if out is not None:
        print(f"\nWrote {len(results):,} rows to {out}")
    return 0


def _run_provenance(
    args: argparse.Namespace, scenario: Any, out: Path, draws: Any = None
) -> dict[str, Any]:
    """The provenance record of `run --out` (game.batch.provenance): the command spelled out
    with every choice that matters, defaults included, so that `reproduce` runs it again."""
    from game.batch.provenance import record

    ref = args.scenario
    if ref not in scenario_names():  # a file: named in full, to be found from any folder
        ref = str(Path(ref).resolve())
    argv = ["run", ref, "--seed", str(args.seed)]
    if args.months is not None:
        argv += ["--months", str(args.months)]
    for item in args.sets:
        argv += ["--set", item]
    if args.samples is not None:
        argv += ["--samples", str(args.samples)] + (["--weighted"] if args.weighted else [])
    argv += ["--out", str(out)]
    return record(
        prog=PROG,
        argv=argv,
        scenario=scenario,
        seed=args.seed,
        months=args.months,
        overrides=list(args.sets),
        samples=args.samples,
        draws=draws,
        weighted=bool(getattr(args, "weighted", False)),
    )


def draws_path(out: Path) -> Path:
    """Where `run --samples --out FILE` writes the parameter draws: FILE.draws beside it."""
    return out.with_name(f"{out.stem}.draws{out.suffix}")


def _workers_with(args: argparse.Namespace, flag: str, used: bool) -> int | None:
    """--workers for the option that runs many futures (`flag`): None when that option is not
    used (and --workers alone is an error), else --workers or the default (the cores)."""
    if not used:
        if args.workers is not None:
            raise InputError(Problem(f"--workers goes with {flag}", key="--workers"))
        return None
    if args.workers is not None:
        return int(args.workers)
    from game.batch.calibration import default_workers

    return default_workers()


def _run_samples(args: argparse.Namespace, scenario: Any, out: Path | None, workers: int) -> int:
    """`run --samples N`: N sampled futures, the yearly table as median and 10-90% band."""
    if args.events:
        raise InputError(
            Problem("--events shows one run's news; it does not go with --samples", key="--events")
        )
    draws_out = check_writable(str(draws_path(out)), "--out") if out is not None else None

    from game.batch.futures import FutureFailed, format_band, run_futures, yearly_band

    try:
        results, draws = run_futures(scenario, args.samples, args.seed, args.months, workers)
    except FutureFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    judged = None
    if args.weighted:
        from game.batch.plausibility import judge_draws

        judged = judge_draws(draws, workers)
        draws = draws.assign(weight=judged.weights)
    if out is not None and draws_out is not None:
        from game.batch.output import save_results

        prov = _run_provenance(args, scenario, out, draws)
        save_results(draws, draws_out, prov, "--out")
        save_results(results, out, prov, "--out")
    drawn = [c for c in draws.columns if c not in ("sample", "seed")]
    print(f"Scenario: {scenario.name} - {scenario.description}")
    print(
        f"{args.samples} sampled futures from seed {args.seed}, {results['step'].max()} months "
        f"from {results['date'].iloc[0]} to {results['date'].iloc[-1]}"
        + (f"; overrides: {', '.join(args.sets)}" if args.sets else "")
    )
    print(
        textwrap.fill(
            f"Each future draws {len(drawn)} uncertain parameters over their ranges "
            "(assets/data/parameters.yaml; a Latin hypercube) and its own seed. Each cell: "
            "median [10%..90%] over the futures: what we don't know, not a forecast's error.",
            width=100,
        )
    )
    if judged is not None:
        print(_weighting_note(judged))
    print()
    print(format_band(yearly_band(results, None if judged is None else judged.weights)))
    if out is not None:
        print(f"\nWrote {len(results):,} rows to {out} and the draws to {draws_out}")
    return 0


def _weighting_note(judged: Any) -> str:
    """What the weights did: the futures they leave, and the targets that set them."""
    worst = judged.misses[judged.misses["share_outside"] > 0].head(3)
    named = ", ".join(
        f"{row.target} (missed by {row.share_outside:.0%} of them)" for row in worst.itertuples()
    )
    return textwrap.fill(
        "Weighted by the record: each future counts by how well its world reproduces the "
        "calibration targets of assets/data/targets.yaml (open ones left out; "
        "game/batch/plausibility.py says how), so the band rests on about "
        f"{judged.effective_samples:.1f} of the {len(judged.weights)} futures. "
        + (f"The targets that weigh most: {named}." if named else "Every future met every target."),
        width=100,
    )


# Fewer draws than this and calibrate's most_sensitive_to (the largest of some 80 rank
# correlations) is mostly chance: with 100 runs chance alone reaches about 0.3.
MIN_SAMPLE_TO_RANK = 100


def _few_samples_warning(sample: int) -> str:
    """What the 'moves with most' column is worth from `sample` runs."""
    import math

    from game.config.experiment import drawn_parameters

    k = len(drawn_parameters())
    chance = min(1.0, math.sqrt(2 * math.log(2 * k) / max(1, sample - 1)))
    return (
        f"warning: most_sensitive_to is the largest of {k} rank correlations over {sample} "
        f"runs; chance alone reaches about {chance:.2f}, so it is mostly noise below "
        f"--sample {MIN_SAMPLE_TO_RANK}"
    )


def cmd_calibrate(args: argparse.Namespace) -> int:
    from game.batch.calibration import (
        TABLE_COLUMNS,
        calibrate_trajectories,
        format_table,
        load_targets,
    )

    out = None
    if args.out is not None:
        out = Path(args.out)
        if out.suffix.lower() != ".csv":
            raise InputError(
                Problem(f"expected a file ending in .csv, got '{out.name}'", key="--out")
            )

        check_writable(out, "--out")
    if args.record is not None and Path(args.record).exists() and not Path(args.record).is_dir():
        raise InputError(Problem(f"'{args.record}' is a file, expected a folder", key="--record"))
    targets = load_targets()
    runs = args.sample or args.seeds
    how = (
        f"{runs} runs drawing parameters from their ranges (Latin hypercube)"
        if args.sample
        else f"{runs} seeds"
    )
    print(
        f"Calibrating the historical scenario against {len(targets.targets)} public targets: "
        f"{how}, master seed {args.seed}",
        file=sys.stderr,
    )
    result = calibrate_trajectories(
        seeds=args.seeds,
        sample=args.sample or 0,
        workers=args.workers,
        master_seed=args.seed,
        targets=targets,
        progress=sys.stderr.isatty(),
    )
    table = result.table
    print(format_table(table))
    print()
    print(
        f"{int(table['in_range'].sum())} of {len(table)} targets in range (median of the runs "
        f"within the accepted range). Sources: assets/data/targets.yaml."
    )
    if args.sample and args.sample < MIN_SAMPLE_TO_RANK:
        print(_few_samples_warning(args.sample), file=sys.stderr)
    if out is not None:
        from game.batch.calibration import calibration_provenance
        from game.batch.output import save_results

        columns = TABLE_COLUMNS + [c for c in ("share_in_range", "most_sensitive_to") if c in table]
        prov = calibration_provenance(result, targets, args.seeds, args.sample, args.seed, out)
        save_results(table[columns], out, prov, "--out")
        print(f"Wrote {len(table)} rows to {out}")
    if args.record is not None:
        from game.reports.validation import write_record  # matplotlib: only for a record

        folder = Path(args.record)
        try:
            files = write_record(table, result.bands, folder, how)
        except OSError as exc:
            raise InputError(
                Problem(f"cannot write in '{folder}' ({exc.strerror or exc})", key="--record")
            ) from None
        print(f"Wrote the validation record: {files[0]} and {len(files) - 1} charts")
    return 0


def _no_display() -> bool:
    """True when no real display is available (CI, SSH, SDL's dummy driver); checked without
    importing pygame, so the headless fallback stays fast and quiet."""
    import os

    if os.environ.get("SDL_VIDEODRIVER", "") in ("dummy", "offscreen"):
        return True
    if os.name == "posix" and sys.platform != "darwin":
        return not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    return False


def cmd_play(args: argparse.Namespace) -> int:
    import os

    from game.play.objectives import DEFAULT_ROLE, ROLES

    size = _size(args.size)
    texts.set_language(args.language)
    if args.lesson is not None:
        given = [f for f in ("scenario", "role", "teams") if getattr(args, f) is not None]
        if given:
            raise InputError(
                Problem(
                    "a lesson sets the scenario, the teams and their order; leave out "
                    + ", ".join(f"--{f}" for f in given),
                    key="--lesson",
                )
            )
        load_lesson(args.lesson)  # a bad lesson fails here, clearly
    args.scenario = args.scenario or "historical"
    args.role = args.role or DEFAULT_ROLE
    args.difficulty = args.difficulty or ("normal" if args.lesson is None else None)
    args.seed = args.seed if args.seed is not None or args.lesson else DEFAULT_SEED
    load_scenario(args.scenario)  # a bad name fails here, clearly
    teams = [t.strip() for t in (args.teams or "").split(",") if t.strip()]
    unknown = [t for t in teams if t not in ROLES]
    if unknown:
        raise InputError(
            Problem(
                f"unknown role '{unknown[0]}'; expected some of: {', '.join(ROLES)}", key="--teams"
            )
        )
    if args.screenshot is not None:
        out = Path(args.screenshot)
        if out.suffix.lower() != ".png":
            raise InputError(
                Problem(f"expected a file ending in .png, got '{out.name}'", key="--screenshot")
            )

        check_writable(out, "--screenshot")
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    else:
        if _no_display():
            if args.lesson is not None:  # the lesson's world, without its teams' decisions
                lesson = load_lesson(args.lesson)
                ref = ",".join(lesson.scenario.files[-1:]) or lesson.scenario.name
                print(
                    f"No display found: running the lesson's scenario headless instead "
                    f"({PROG} run {ref} --months {lesson.months})."
                )
                return cmd_run(
                    build_parser().parse_args(["run", ref, "--months", str(lesson.months)])
                )
            print(f"No display found: running the headless default instead ({PROG} run).")
            return cmd_run(build_parser().parse_args(["run"]))
    from game.ui.launch import play

    return play(
        args.scenario,
        args.role,
        args.difficulty,
        teams,
        args.seed,
        size,
        args.screenshot,
        args.autoplay,
        args.scene,
        args.saves,
        args.fullscreen,
        args.lesson,
    )


def cmd_lessons(_: argparse.Namespace) -> int:
    from game.play.objectives import ROLES

    for name in lesson_names():
        lesson = load_lesson(name)
        spec = lesson.spec
        teams = ", ".join(ROLES[r].name for r in spec.roles)
        print(f"{name}: {spec.title}")
        print(f"    {spec.summary}")
        print(
            f"    teams: {teams}; {lesson.months} months from {lesson.scenario.name}, "
            f"{spec.turn_months} months a turn"
            + ("; teams' decisions hidden" if spec.hidden else "")
        )
        print(f"    teacher's page: {_openable(lesson.teacher_page)}")
        print(f"    start: {PROG} play --lesson {name}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from game.reports.debrief import write_report

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(Problem(f"expected a file ending in .html, got '{out.name}'", key="--out"))

    check_writable(out, "--out")
    if args.weighted and args.futures is None:
        raise InputError(Problem("--weighted goes with --futures", key="--weighted"))
    workers = _workers_with(args, "--futures", args.futures is not None)
    written = write_report(
        args.source,
        out,
        baseline=args.baseline,
        seed=args.seed,
        futures=args.futures or 0,
        workers=workers or 1,
        weighted=args.weighted,
    )
    print(f"Wrote {written}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    import os

    from game.batch.pool import (
        connect_dask,
        exit_status,
        parse_scheduler,
        terminate_as_interrupt,
    )

    workers = args.workers or max(1, os.cpu_count() or 1)
    if args.scheduler and args.backend != "dask":
        raise InputError(Problem("--scheduler needs --backend dask", key="--scheduler"))
    if args.scheduler:  # before anything is created
        args.scheduler = parse_scheduler(args.scheduler)
    if args.from_save:
        if args.experiment:
            raise InputError(
                Problem("give an experiment or --from-save, not both", key="--from-save")
            )
        from game.batch.robustness import describe, robustness

        runs = (args.samples or 16) * (args.replications or 4)
        if runs > args.max_runs:
            raise InputError(
                Problem(
                    f"--samples x --replications makes {runs:,} futures; the most a sweep may "
                    f"run is {args.max_runs:,}: lower them, or raise the limit with --max-runs N",
                    key="--from-save",
                )
            )
        folder = Path(args.out or Path("sweeps") / (Path(args.from_save).stem + "-robustness"))
        try:
            with terminate_as_interrupt():
                table, summary = robustness(
                    args.from_save,
                    folder,
                    args.samples or 16,
                    args.replications or 4,
                    workers,
                    args.backend,
                    args.scheduler,
                    seed=DEFAULT_SEED if args.seed is None else args.seed,
                    progress=sys.stderr.isatty(),
                )
        except KeyboardInterrupt as exc:
            print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
            return exit_status(exc)
        d = describe(table)
        if d.get("ok"):
            print(
                f"{d['ok']} of {d['futures']} futures ran: "
                f"the objective's median {d['median']:.2f} "
                f"(10-90%: {d['p10']:.2f} .. {d['p90']:.2f}); beats doing nothing in "
                f"{d['beats_no_change']:.0%}, meets the goal in {d['meets_target']:.0%}."
            )
        print(f"Wrote {folder / 'robustness.parquet'} and {summary}")
        return 0
    if not args.experiment:
        raise InputError(
            Problem("give an experiment file (see experiments/) or --from-save GAME", key="sweep")
        )
    for flag, value in (
        ("--samples", args.samples),
        ("--replications", args.replications),
        ("--seed", args.seed),
    ):
        if value is not None:
            raise InputError(
                Problem(
                    "is for --from-save; an experiment file sets its own "
                    f"({flag[2:]}: N in the file)",
                    key=flag,
                )
            )
    from game.batch.sweep import SweepStore, run_sweep, saved_runs
    from game.config.experiment import load_experiment  # pandas, SALib: only for a sweep
    from game.sim.results import COLUMN_NAMES

    experiment = load_experiment(args.experiment, max_runs=args.max_runs, columns=COLUMN_NAMES)
    spec = experiment.spec
    if spec.search is not None and not spec.levers and not spec.uncertainties:
        raise InputError(
            Problem(
                f"'{spec.name}' is a policy search, not a sweep: "
                f"run `python main.py search {args.experiment}`",
                key="search",
            )
        )
    folder = Path(args.out or Path("sweeps") / experiment.name)
    record = experiment.record()
    # Before anything is printed: reach the scheduler, then lock and check the folder.
    client = connect_dask(args.scheduler) if args.scheduler else None
    try:
        store = SweepStore(folder, experiment, args.format)
    except BaseException:
        if client is not None:
            client.close()
        raise
    print(
        f"{experiment.name}: {record['runs']} runs ({record['policies']} policies x "
        f"{record['draws']} draws x {record['replications']} replications), {workers} workers "
        f"({args.backend}), into {folder}",
        file=sys.stderr,
    )
    try:
        with terminate_as_interrupt():
            report = run_sweep(
                experiment,
                folder,
                workers,
                args.backend,
                args.scheduler,
                args.format,
                progress=True if sys.stderr.isatty() else "log",
                client=client,
                store=store,
            )
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM or SIGHUP: workers are stopped
        print(
            f"interrupted: {saved_runs(folder)} of {record['runs']} runs are saved in {folder}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return exit_status(exc)
    rate = f", {report.ran / report.seconds:.1f} runs/s" if report.ran and report.seconds else ""
    print(
        f"{report.total} runs: {report.already} already done, {report.ran} run now "
        f"({report.failed} failed) in {report.seconds:.1f} s{rate}"
    )
    print(f"Tables: {report.experiments} and {report.outcomes}")
    print(f"Next: {PROG} analyze {folder}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from game.reports.analysis import analyze

    written = analyze(args.folder)
    for path in written:
        print(f"Wrote {path}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from game.reports.analysis.discovery import discover, summary_text, write_discovery

    found = discover(args.folder, args.where, args.coverage)
    written = write_discovery(found, args.folder)
    print(summary_text(found, Path(args.folder)))
    for path in written:
        print(f"Wrote {path}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    import os

    from game.batch.pool import connect_dask, exit_status, parse_scheduler, terminate_as_interrupt

    workers = args.workers or max(1, os.cpu_count() or 1)
    if args.scheduler and args.backend != "dask":
        raise InputError(Problem("--scheduler needs --backend dask", key="--scheduler"))
    if args.scheduler:
        args.scheduler = parse_scheduler(args.scheduler)
    from game.batch.search import SearchStore, print_progress, run_search
    from game.config.experiment import load_experiment
    from game.sim.results import COLUMN_NAMES

    experiment = load_experiment(args.experiment, columns=COLUMN_NAMES)
    search = experiment.spec.search
    if search is None:
        raise InputError(
            Problem(
                "this experiment has no `search:` section; expected search: {nfe, population, "
                "futures, levers, robustness, epsilons} (see game/config/experiment.py)",
                file=experiment.source,
            )
        )
    folder = Path(args.out or Path("searches") / experiment.name)
    client = connect_dask(args.scheduler) if args.scheduler else None
    try:
        store = SearchStore(folder, experiment)
    except BaseException:
        if client is not None:
            client.close()
        raise
    print(
        f"{experiment.name}: {search.nfe} candidate policies x {search.futures} futures "
        f"(population {search.population}), {workers} workers ({args.backend}), into {folder}",
        file=sys.stderr,
    )
    try:
        with terminate_as_interrupt():
            report = run_search(
                experiment,
                folder,
                workers,
                args.backend,
                args.scheduler,
                client=client,
                generations=args.generations,
                progress=print_progress,
                store=store,
            )
    except KeyboardInterrupt as exc:
        print(
            f"interrupted: the search is saved in {folder} up to its last whole generation; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return exit_status(exc)
    if not report.finished:
        print(
            f"stopped after generation {report.generations}: nfe {report.nfe} of {report.budget}; "
            "run the same command again to resume"
        )
        return 0
    from game.reports.analysis.search_charts import search_charts

    written = report.written + search_charts(folder)
    pareto = len([p for p in written if p.parent.name == "policies"])
    print(
        f"{report.nfe} candidate policies in {report.generations} generations "
        f"({report.ran_now} runs now, {report.seconds:.1f} s): {pareto} in the Pareto set"
    )
    for path in written:
        if path.parent.name != "policies":
            print(f"Wrote {path}")
    print(f"Wrote {pareto} scenario files in {folder / 'policies'}")
    if pareto:
        print(f"Next: {PROG} play --scenario {folder / 'policies' / 'policy_00.yaml'}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from game.batch.compare import compare, load, report

    a, b = load(args.a), load(args.b)
    result = compare(a, b, k=args.k)
    print(report(a, b, result, everything=args.all))
    return 1 if len(result.moved) else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from game.batch.reproduce import reproduce

    done = reproduce(args.file, main, workers=args.workers)
    print(done.text)
    return 0 if done.identical else 1


def cmd_scenarios(_: argparse.Namespace) -> int:

    for name in scenario_names():
        sc = load_scenario(name)
        print(f"{name:20s} {sc.description}")
    return 0


def cmd_levers(_: argparse.Namespace) -> int:

    spec = default_policy_spec()
    rule_ids = list(spec.rules)
    for lv in spec.levers.values():
        target = "" if lv.target == "none" else f" per {lv.target}"
        unit = f" {lv.unit}" if lv.unit else ""
        print(
            f"{lv.id}  [{lv.owner}{target}]  {lv.describe_range(rule_ids)}{unit}"
            f"  (default {lv.default})"
        )
        body = f"{lv.does} Mirrors: {lv.mirrors}."
        print(textwrap.indent(textwrap.fill(body, 92), "    "))
    return 0


COMMANDS = {
    "run": cmd_run,
    "play": cmd_play,
    "sweep": cmd_sweep,
    "lessons": cmd_lessons,
    "report": cmd_report,
    "analyze": cmd_analyze,
    "discover": cmd_discover,
    "search": cmd_search,
    "compare": cmd_compare,
    "reproduce": cmd_reproduce,
    "calibrate": cmd_calibrate,
    "scenarios": cmd_scenarios,
    "levers": cmd_levers,
    "host": cmd_host,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `python main.py --seed 5` means `python main.py run --seed 5`: run is the main job.
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    if args.command is None:  # the main job: the game, or the headless run without a display
        args = parser.parse_args(["play"])
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
