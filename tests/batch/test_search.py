"""Robust policy search (game/batch/search.py): a tiny search finds a non-dominated set,
resumes where it stopped, gives the same set for the same seed, and writes scenario files that
run the candidate's policy again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.batch.outcomes import outcome_values
from game.batch.search import (
    SearchStore,
    dominated,
    hypervolume,
    robust_value,
    run_search,
)
from game.config.errors import InputError
from game.config.experiment import Robustness, load_experiment
from game.config.scenario import load_scenario
from game.sim.model import ChipWarModel
from game.sim.results import COLUMN_NAMES

# 2 levers, 2 outcomes, 3 futures of 6 months; 3 generations of 8 candidates (72 runs, ~3 s).
TINY = """\
name: tiny_search
description: "A tiny robust search: enforcement and China's subsidy."
scenario: historical
months: 6
outcomes:
  - name: smuggled_total
    expression: chips_smuggled
    aggregate: sum
    direction: minimize
  - name: china_compute
    expression: compute_h100e
    aggregate: last
    direction: maximize
search:
  nfe: 24
  population: 8
  futures: 3
  seed: 5
  levers:
    enforcement: {range: [0.25, 4.0]}
    domestic_subsidy: {range: [0.0, 0.6]}
  robustness:
    smuggled_total: {percentile: 90}
    china_compute: mean
  epsilons: {smuggled_total: 1, china_compute: 1}
"""


def experiment(tmp_path: Path, text: str = TINY, name: str = "tiny.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load_experiment(str(path), columns=COLUMN_NAMES)


def turned(frame: pd.DataFrame, directions: dict[str, str]) -> np.ndarray:
    return np.column_stack(
        [frame[k].to_numpy(float) * (1 if d == "minimize" else -1) for k, d in directions.items()]
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search")
    out = root / "out"
    report = run_search(experiment(root), out)
    assert report.finished and report.nfe == 24 and report.generations == 3
    return out


def test_the_pareto_set_is_not_dominated(tiny: Path) -> None:
    pareto = pd.read_csv(tiny / "pareto.csv")
    every = pd.read_csv(tiny / "evaluations.csv")
    directions = {"smuggled_total": "minimize", "china_compute": "maximize"}
    assert len(pareto) >= 1 and len(every) == 24
    assert not dominated(turned(pareto, directions)).any()
    # no candidate evaluated in the whole search dominates a member of the set
    others = turned(every, directions)
    for p in turned(pareto, directions):
        assert not np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1))
    # the robust values are the measures of the runs (90th percentile, mean)
    runs = pd.read_csv(tiny / "pareto_futures.csv")
    for _, row in pareto.iterrows():
        mine = runs[runs["candidate"] == row["candidate"]]
        assert len(mine) == 3
        assert row["smuggled_total"] == pytest.approx(np.percentile(mine["smuggled_total"], 90))
        assert row["china_compute"] == pytest.approx(mine["china_compute"].mean())
    conv = pd.read_csv(tiny / "convergence.csv")
    assert list(conv["nfe"]) == [8, 16, 24]
    assert (conv["hypervolume"] > 0).all() and conv["epsilon_progress"].is_monotonic_increasing
    assert (tiny / "pareto.csv.provenance.json").exists()


def test_resume_continues_the_count_and_ends_where_one_run_ends(tiny: Path, tmp_path: Path) -> None:
    e = experiment(tmp_path)
    out = tmp_path / "out"
    first = run_search(e, out, generations=1)
    assert not first.finished and first.nfe == 8 and first.ran_now == 8 * 3
    assert (out / "checkpoint.pkl").exists() and not (out / "pareto.csv").exists()
    second = run_search(e, out)
    assert second.finished and second.nfe == 24 and second.ran_now == 16 * 3  # not 24 * 3
    assert list(pd.read_csv(out / "convergence.csv")["generation"]) == [1, 2, 3]
    # the same seed: the same set, whether stopped and resumed or run straight
    pd.testing.assert_frame_equal(pd.read_csv(out / "pareto.csv"), pd.read_csv(tiny / "pareto.csv"))


def test_another_seed_searches_otherwise(tiny: Path, tmp_path: Path) -> None:
    e = experiment(tmp_path, TINY.replace("seed: 5", "seed: 6").replace("nfe: 24", "nfe: 8"))
    run_search(e, tmp_path / "out")
    a = pd.read_csv(tmp_path / "out" / "evaluations.csv")["enforcement"]
    b = pd.read_csv(tiny / "evaluations.csv")["enforcement"].iloc[:8]
    assert not np.allclose(a.to_numpy(), b.to_numpy())


def test_a_policy_file_runs_the_candidate_again(tiny: Path) -> None:
    meta = json.loads((tiny / "search.json").read_text())
    runs = pd.read_csv(tiny / "pareto_futures.csv")
    pareto = pd.read_csv(tiny / "pareto.csv")
    row = pareto.iloc[-1]
    scenario = load_scenario(str(tiny / "policies" / f"{row['policy']}.yaml"))
    future = meta["futures"][1]
    model = ChipWarModel(
        scenario, rng=future["seed"], overrides=future["parameters"], months=meta["months"]
    )
    exp = load_experiment(str(tiny / "experiment.yaml"), columns=COLUMN_NAMES)
    got = outcome_values(model.run(), exp.spec.outcomes).iloc[0]
    want = runs[(runs["candidate"] == row["candidate"]) & (runs["future"] == 1)].iloc[0]
    assert got["smuggled_total"] == want["smuggled_total"]
    assert got["china_compute"] == pytest.approx(want["china_compute"], rel=1e-12)
    text = (tiny / "policies" / f"{row['policy']}.yaml").read_text()
    assert repr(float(row["enforcement"])) in text


def test_regret_and_satisficing_measures() -> None:
    values = np.array([1.0, 4.0, 2.0])
    best = np.array([1.0, 1.0, 2.0])
    assert robust_value(values, Robustness(measure="regret"), "minimize", best) == 3.0
    assert robust_value(-values, Robustness(measure="regret"), "maximize", -best) == 3.0
    p50 = Robustness(measure="regret", percentile=50)
    assert robust_value(values, p50, "minimize", best) == 0.0
    meet = Robustness(measure="satisficing", threshold=2.0)
    assert robust_value(values, meet, "minimize", best) == pytest.approx(2 / 3)
    assert robust_value(values, meet, "maximize", best) == pytest.approx(2 / 3)
    assert robust_value(values, Robustness(measure="percentile", percentile=100), "", best) == 4


def test_a_search_with_regret_and_satisficing(tmp_path: Path) -> None:
    text = TINY.replace("nfe: 24", "nfe: 16").replace(
        """    smuggled_total: {percentile: 90}
    china_compute: mean""",
        """    smuggled_total: regret
    china_compute: {satisficing: {threshold: 140000}}""",
    )
    text = text.replace("china_compute: 1}", "china_compute: 0.1}")
    report = run_search(experiment(tmp_path, text), tmp_path / "out")
    pareto = pd.read_csv(tmp_path / "out" / "pareto.csv")
    assert report.finished and len(pareto) >= 1
    assert pareto["china_compute"].between(0, 1).all() and (pareto["smuggled_total"] >= 0).all()
    directions = {"smuggled_total": "minimize", "china_compute": "maximize"}
    assert not dominated(turned(pareto, directions)).any()


def test_hypervolume() -> None:
    ref = np.array([1.0, 1.0])
    assert hypervolume(np.array([[0.5, 0.5]]), ref) == pytest.approx(0.25)
    assert hypervolume(np.array([[0.0, 0.5], [0.5, 0.0]]), ref) == pytest.approx(0.75)
    assert hypervolume(np.array([[0.5, 0.5], [0.6, 0.6]]), ref) == pytest.approx(0.25)
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), np.ones(3)) == pytest.approx(0.125)


def test_a_folder_of_another_search_or_a_sweep_is_refused(tiny: Path, tmp_path: Path) -> None:
    other = experiment(tmp_path, TINY.replace("seed: 5", "seed: 9"))
    with pytest.raises(InputError, match="holds a search of another experiment"):
        SearchStore(tiny, other)
    sweep = tmp_path / "sweep"
    (sweep / "runs").mkdir(parents=True)
    (sweep / "manifest.json").write_text(json.dumps({"experiment": {"digest": "x"}}))
    with pytest.raises(InputError, match="holds a sweep, not a search"):
        SearchStore(sweep, other)


def test_a_choice_lever_held_through_rule_changes(tmp_path: Path) -> None:
    """destination.china is reset by every export-rule version the schedule brings in: the
    policy file holds it as the search's runs did (pinned, like --set)."""
    text = TINY.replace("months: 6", "months: 14").replace("nfe: 24", "nfe: 8")
    text = text.replace(
        "    domestic_subsidy: {range: [0.0, 0.6]}",
        "    destination.china: {choices: [open, restricted, embargoed]}",
    ).replace("futures: 3", "futures: 2")
    out = tmp_path / "out"
    run_search(experiment(tmp_path, text), out)
    meta = json.loads((out / "search.json").read_text())
    runs = pd.read_csv(out / "pareto_futures.csv")
    every = pd.read_csv(out / "evaluations.csv")
    assert every["destination.china"].isin(["open", "restricted", "embargoed"]).all()
    exp = load_experiment(str(out / "experiment.yaml"), columns=COLUMN_NAMES)
    for _, row in pd.read_csv(out / "pareto.csv").iterrows():
        scenario = load_scenario(str(out / "policies" / f"{row['policy']}.yaml"))
        future = meta["futures"][0]
        model = ChipWarModel(
            scenario, rng=future["seed"], overrides=future["parameters"], months=meta["months"]
        )
        got = outcome_values(model.run(), exp.spec.outcomes).iloc[0]
        want = runs[(runs["candidate"] == row["candidate"]) & (runs["future"] == 0)].iloc[0]
        assert got["smuggled_total"] == want["smuggled_total"], row["destination.china"]
        assert got["china_compute"] == pytest.approx(want["china_compute"], rel=1e-12)
