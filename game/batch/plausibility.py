"""How well each sampled future's world reproduces the public record (the calibration targets
of assets/data/targets.yaml), as a weight for the bands.

Why: each range in parameters.yaml is plausible alone, but not every combination is. A draw in
which China's 2024 training run is ten times the record, or the 2023 gap half of it, says
little about 2030. Weighting each future by how close its world comes to the record (a
likelihood, as in GLUE or approximate Bayesian computation) narrows the band to the futures
consistent with what happened, and the effective sample size says how many draws that leaves.

The likelihood, an assumption with its reasons:
- inside a target's accepted range a draw loses nothing: the ranges are already the record's
  honest uncertainty;
- outside, it loses like a normal tail whose scale is half the range's width (in logs for
  figures that span orders of magnitude, FLOP and revenue; in the figure's units when the
  range starts at zero): one half-width outside keeps exp(-1/2) = 0.61 of the weight, two
  keep 0.14;
- targets marked `open` are left out: the model misses them at every draw for a reason no
  draw covers (targets.yaml says which), so they would only scale every weight alike;
- the targets are taken as independent (the product of their terms); several measure the same
  years, so the weights are, if anything, too sharp, which the effective sample size shows.

Each draw is judged in the targets' own scenario (historical, 2022-2026) with its parameters
and seed, whatever scenario the futures then play: the record is about the world, not about
the policy asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from game.batch.calibration import Job, Target, Targets, load_targets, run_jobs
from game.config.experiment import plain_value


@dataclass(frozen=True)
class Plausibility:
    """Weights of the futures (summing to 1) and what set them."""

    weights: np.ndarray  # [sample]
    misses: pd.DataFrame  # target, share_outside (of the draws), mean_penalty; worst first

    @property
    def effective_samples(self) -> float:
        """Kish's effective sample size: as many equally weighted futures as the band rests on."""
        w = self.weights
        return float(w.sum() ** 2 / (w**2).sum()) if (w > 0).any() else 0.0


def penalties(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """[draw, target] -> the log-likelihood lost by each draw on each target (0 inside its
    range; a missing value counts as two half-widths outside)."""
    low = np.array([t.range[0] for t in targets])
    high = np.array([t.range[1] for t in targets])
    logs = low > 0  # ranges that start above zero are judged in logs
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(logs, np.log(np.maximum(values, 1e-300)), values)
        lo = np.where(logs, np.log(np.where(logs, low, 1.0)), low)
        hi = np.where(logs, np.log(np.where(logs, high, 1.0)), high)
    half = np.maximum((hi - lo) / 2.0, 1e-12)
    outside = np.maximum(lo - v, 0.0) + np.maximum(v - hi, 0.0)
    z = np.where(np.isfinite(values), outside / half, 2.0)
    return 0.5 * z**2


def judge_draws(
    draws: pd.DataFrame, workers: int = 1, targets: Targets | None = None
) -> Plausibility:
    """Run each draw (`draws`: sample, seed, one column per parameter) in the targets'
    scenarios and weigh it by its fit to the record (see the module's docstring)."""
    targets = targets or load_targets()
    judged = [t for t in targets.targets if not t.open]
    params = [c for c in draws.columns if c not in ("sample", "seed", "weight")]
    jobs = [
        Job(scenario, int(row["seed"]), i, tuple((k, plain_value(row[k])) for k in params))
        for i, (_, row) in enumerate(draws.iterrows())
        for scenario in targets.scenarios()
    ]
    values = np.full((len(draws), len(judged)), np.nan)
    column = {t.id: j for j, t in enumerate(judged)}
    for job, result in run_jobs(jobs, workers, targets=targets):
        for tid, v in result.values.items():
            if tid in column:
                values[job.draw, column[tid]] = v
    lost = penalties(judged, values)
    log_w = -lost.sum(axis=1)
    w = np.exp(log_w - log_w.max())
    misses = pd.DataFrame(
        {
            "target": [t.id for t in judged],
            "share_outside": (lost > 0).mean(axis=0),
            "mean_penalty": lost.mean(axis=0),
        }
    ).sort_values("mean_penalty", ascending=False, kind="stable")
    return Plausibility(w / w.sum(), misses.reset_index(drop=True))


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]
) -> np.ndarray:
    """[sample, ...] values, [sample] weights -> [len(qs), ...]: the smallest value whose
    cumulative weight reaches each q (NaN values carry no weight; all-NaN gives NaN)."""
    order = np.argsort(values, axis=0, kind="stable")  # NaN sort last
    v = np.take_along_axis(values, order, axis=0)
    w = np.broadcast_to(weights.reshape((-1,) + (1,) * (values.ndim - 1)), values.shape)
    w = np.where(np.isnan(v), 0.0, np.take_along_axis(w, order, axis=0))
    total = w.sum(axis=0)
    cum = np.cumsum(w, axis=0) / np.where(total > 0, total, 1.0)
    out = []
    for q in qs:
        idx = np.argmax(cum >= q - 1e-12, axis=0)
        picked = np.take_along_axis(v, idx[None, ...], axis=0)[0]
        out.append(np.where(total > 0, picked, np.nan))
    return np.array(out)
