"""From a game to an experiment: how robust is the policy a player played?

A saved game holds the player's dated decisions. Here they are replayed as a schedule across
many futures: replication seeds times draws of every uncertain parameter the scenario leaves
open (a Latin hypercube over their ranges: config.experiment.drawn_parameters). Each future
is run twice with the same seed and parameters, with the decisions and without them (the
game's ghost world), so the comparison is paired: "does this policy beat doing nothing in that
same world?" The role's objective (game/play/objectives.py) is computed for both.

The folder holds robustness.parquet (with its provenance in its metadata: the saved game's
path and sha256, samples, replications, the seeds and every draw), summary.md, manifest.json
(the same record under `provenance`) and game.scgame, a copy of the saved game as it was run:
`python main.py reproduce FOLDER` runs the copy again, so the original may move.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from game.batch.output import save_bytes, save_results
from game.batch.pool import connect_dask, stream_dask, stream_local
from game.batch.provenance import record
from game.config.dates import parse_month
from game.config.errors import InputError, Problem
from game.config.experiment import drawn_parameters, parameter_draws, seeds_for
from game.config.scenario import Scenario, ScheduledChange
from game.play.objectives import ROLES, score
from game.play.session import GameSession
from game.sim.model import ChipWarModel
from game.sim.runner import forget


@dataclass(frozen=True)
class PairJob:
    future: int
    seed: int
    parameters: tuple[tuple[str, float], ...]
    played: Scenario
    baseline: Scenario
    role: str


def run_pair(job: PairJob) -> dict[str, Any]:
    """One future, with and without the player's decisions (a worker function)."""

    start = time.perf_counter()
    out: dict[str, Any] = {
        "future": job.future,
        "seed": job.seed,
        **dict(job.parameters),
        "status": "ok",
        "error": "",
    }
    models = []
    try:
        for scenario in (job.baseline, job.played):
            model = ChipWarModel(scenario, rng=job.seed, overrides=dict(job.parameters))
            models.append(model)  # before it runs: a run that raises must be forgotten too
            model.run()
        base, played = models
        mine, theirs = score(job.role, played, base), score(job.role, base, base)
        for role in ROLES:  # every side's objective: a policy good for one can cost another
            with_it, without = score(role, played, base), score(role, base, base)
            out[f"{role}_played"], out[f"{role}_no_change"] = with_it.value, without.value
            out[f"{role}_target"] = with_it.target
        china = played.china_bloc
        out.update(
            {
                "objective_played": mine.value,
                "objective_no_change": theirs.value,
                "target": mine.target,
                "beats_no_change": mine.value > theirs.value,
                "meets_target": mine.value >= mine.target,
                "china_gap_played": played.latest("gap_months", china),
                "china_gap_no_change": base.latest("gap_months", china),
                "china_frontier_played": played.latest("frontier_capability", china),
                "china_frontier_no_change": base.latest("frontier_capability", china),
            }
        )
    except Exception as exc:  # recorded, not raised
        out["status"], out["error"] = "error", f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        forget(*models)
    out["seconds"] = time.perf_counter() - start
    return out


def played_scenarios(save: str | Path) -> tuple[Scenario, Scenario, str, list[Any]]:
    """The saved game's world without and with the player's decisions, the role they are
    judged as, and the decisions."""

    session = GameSession.load(save)
    if not session.decisions:
        raise InputError(
            Problem("the saved game has no decisions to test: play some first", file=str(save))
        )
    return session_scenarios(session)


def session_scenarios(session: GameSession) -> tuple[Scenario, Scenario, str, list[Any]]:
    """A game's world without and with the players' decisions (replayed as a dated schedule),
    the first role, and the decisions."""
    decisions = list(session.decisions)
    base = session.scenario
    extra = tuple(
        ScheduledChange(_month(d.date), d.change, f"(played) {d.change}") for d in decisions
    )
    played = replace(
        base,
        name=f"{base.name} (played)",
        schedule=tuple(sorted(base.schedule + extra, key=lambda s: s.month)),
    )
    return base, played, session.roles[0], decisions


def _month(date: str) -> int:

    return parse_month(date)


def _lost_pair(job: PairJob, reason: str) -> dict[str, Any]:
    """The row of a future whose worker process died under it."""
    return {
        "future": job.future,
        "seed": job.seed,
        **dict(job.parameters),
        "status": "error",
        "error": f"WorkerDied: {reason}",
    }


def robustness(
    save: str | Path,
    folder: str | Path,
    samples: int = 16,
    replications: int = 4,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    seed: int = 2022,
    progress: bool = False,
) -> tuple[pd.DataFrame, Path]:
    """Run the paired futures and write `robustness.parquet` and `summary.md` in `folder`."""
    base, played, role, decisions = played_scenarios(save)
    game = Path(save).read_bytes()  # as it was run: its sha256 and a copy go with the results
    client = connect_dask(scheduler) if backend == "dask" and scheduler else None
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if client is not None:
            client.close()
        raise InputError(
            Problem(f"cannot create the folder ({exc.strerror})", file=str(folder))
        ) from None
    drawn = drawn_parameters(base.parameters)  # every uncertain one the scenario leaves open
    draws = parameter_draws(samples, seed, drawn)
    seeds = seeds_for(replications, seed)
    jobs = [
        PairJob(
            i * replications + r,
            s,
            tuple((k, float(v)) for k, v in draws.iloc[i].items()),
            played,
            base,
            role,
        )
        for i in range(samples)
        for r, s in enumerate(seeds)
    ]
    bar = None
    if progress:
        bar = tqdm(total=len(jobs), unit="future", desc="robustness")
    rows = []
    if backend == "dask":
        results = stream_dask(run_pair, jobs, workers, client)
    else:
        results = stream_local(run_pair, jobs, workers, _lost_pair)
    try:
        for row in results:
            rows.append(row)
            if bar is not None:
                bar.update()
    finally:
        results.close()
        if bar is not None:
            bar.close()
    table = pd.DataFrame(rows).sort_values("future").reset_index(drop=True)
    prov = robustness_provenance(
        save, game, folder, base, role, samples, replications, seed, seeds, draws
    )
    save_bytes(folder / SAVE_COPY, game, "--out")
    save_results(table, folder / "robustness.parquet", prov, "--out")
    summary = folder / "summary.md"
    save_bytes(summary, _summary(table, role, decisions, save).encode(), "--out")
    save_bytes(
        folder / "manifest.json",
        json.dumps(
            {
                "save": str(save),
                "role": role,
                "samples": samples,
                "replications": replications,
                "seed": seed,
                "parameters": drawn,
                "provenance": prov,
            },
            indent=1,
        ).encode(),
        "--out",
    )
    return table, summary


SAVE_COPY = "game.scgame"  # the saved game as it was run, kept in the folder


def robustness_provenance(
    save: str | Path,
    game: bytes,
    folder: Path,
    base: Scenario,
    role: str,
    samples: int,
    replications: int,
    seed: int,
    seeds: list[int],
    draws: pd.DataFrame,
) -> dict[str, Any]:
    """The record of `sweep --from-save` (game.batch.provenance): the saved game (its path and
    sha256; its bytes are among the inputs as `game.scgame`), the seeds (the same under every
    draw) and every draw (`sample` numbers them: future = sample x replications + replication)."""
    import hashlib

    path = Path(save).resolve()
    argv = [
        "sweep", "--from-save", str(path), "--samples", str(samples),
        "--replications", str(replications), "--seed", str(seed), "--out", str(folder),
    ]  # fmt: skip
    numbered = draws.reset_index(drop=True)
    numbered.insert(0, "sample", range(len(numbered)))
    return record(
        prog="python main.py",
        argv=argv,
        scenario=base,
        seed=seed,
        samples=samples,
        draws=numbered,
        seeds=seeds,
        extra_inputs=[(SAVE_COPY, game)],
        save={
            "path": str(path),
            "sha256": hashlib.sha256(game).hexdigest(),
            "bytes": len(game),
            "copy": SAVE_COPY,
        },
        role=role,
        replications=replications,
    )


def _drawn(table: pd.DataFrame) -> list[str]:
    """The drawn parameters' columns of a robustness table."""
    names = set(drawn_parameters())
    return [c for c in table.columns if c in names]


def describe(table: pd.DataFrame) -> dict[str, float]:
    ok = table[table["status"] == "ok"]
    if ok.empty:
        return {"futures": len(table), "ok": 0}
    v = ok["objective_played"].to_numpy(float)
    return {
        "futures": len(table),
        "ok": len(ok),
        "median": float(np.median(v)),
        "p10": float(np.percentile(v, 10)),
        "p90": float(np.percentile(v, 90)),
        "beats_no_change": float(ok["beats_no_change"].mean()),
        "meets_target": float(ok["meets_target"].mean()),
        "no_change_median": float(np.median(ok["objective_no_change"].to_numpy(float))),
        "no_change_p10": float(np.percentile(ok["objective_no_change"].to_numpy(float), 10)),
        "no_change_p90": float(np.percentile(ok["objective_no_change"].to_numpy(float), 90)),
    }


def by_role(table: pd.DataFrame) -> pd.DataFrame:
    """Every role's objective with and without the decisions: median, 10-90%, how often the
    decisions leave that role better off, how often its goal is met."""

    ok = table[table["status"] == "ok"]
    rows = []
    for role in ROLES:
        if f"{role}_played" not in ok or ok.empty:
            continue
        played, base = ok[f"{role}_played"].astype(float), ok[f"{role}_no_change"].astype(float)
        rows.append(
            {
                "role": role,
                "median": played.median(),
                "p10": played.quantile(0.1),
                "p90": played.quantile(0.9),
                "no_change_median": base.median(),
                "better_off": float((played > base).mean()),
                "meets_goal": float((played >= ok[f"{role}_target"]).mean()),
                "goal": float(ok[f"{role}_target"].median()),
            }
        )
    return pd.DataFrame(rows)


def _summary(table: pd.DataFrame, role: str, decisions: list[Any], save: str | Path) -> str:

    d = describe(table)
    lines = [
        f"# How robust is the played policy? ({ROLES[role].name})",
        "",
        f"Saved game: `{save}`. {ROLES[role].objective}",
        "",
        "## The decisions replayed",
        "",
    ]
    lines += [f"- {x.date}: {x.change}" for x in decisions]
    lines += ["", f"## Across {d['futures']} futures ({d.get('ok', 0)} ran)", ""]
    if d.get("ok"):
        lines += [
            "| | median | 10% | 90% |",
            "|---|---|---|---|",
            f"| objective with the decisions | {d['median']:.2f} "
            f"| {d['p10']:.2f} | {d['p90']:.2f} |",
            f"| objective without them | {d['no_change_median']:.2f} "
            f"| {d['no_change_p10']:.2f} | {d['no_change_p90']:.2f} |",
            "",
            f"The played policy beats doing nothing in **{d['beats_no_change']:.0%}** "
            "of the futures "
            f"and meets the role's goal ({table['target'].iloc[0]:g}) in {d['meets_target']:.0%}.",
            "",
            "Each future is a seed and a draw of every uncertain parameter the scenario leaves "
            f"open ({len(_drawn(table))}, a Latin hypercube over their ranges in "
            "assets/data/parameters.yaml), run with and without the decisions.",
        ]
    roles = by_role(table)
    if len(roles):
        lines += [
            "",
            "## Every side's objective",
            "",
            "A policy judged by one role's goal can cost another. Median (10-90%) of each role's "
            "objective across the futures, with the decisions and without them (goals: higher "
            "is better).",
            "",
            "| role | with the decisions | without | better off in | goal | goal met in |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {ROLES[r.role].name} | {r.median:.2f} ({r.p10:.2f} to {r.p90:.2f}) "
            f"| {r.no_change_median:.2f} | {r.better_off:.0%} | {r.goal:.1f} | {r.meets_goal:.0%} |"
            for r in roles.itertuples()
        ]
    failed = table[table["status"] != "ok"]
    if len(failed):
        lines += ["", "## Futures that failed", ""] + [
            f"- future {r.future}: {r.error}" for r in failed.head(10).itertuples()
        ]
    return "\n".join(lines) + "\n"
