"""How much each parameter and each policy scenario moves the headline result: China's mean gap
in months over 2026-2030 under the historical scenario, one parameter at a time at the low and
the high end of its range (assets/data/parameters.yaml), against the spread of the policy
scenarios. It writes the Markdown table that docs/model.md section 8.1 quotes.

    python tools/sensitivity.py [--seeds 2022 2023] [--workers 2] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game.batch.calibration import m_results_mean  # noqa: E402
from game.config.world import default_world_data  # noqa: E402
from game.reports.validation import commit_stamp  # noqa: E402
from game.sim.model import ChipWarModel  # noqa: E402
from game.sim.runner import forget, stream  # noqa: E402

WINDOW = ("2026-01", "2030-12")
POLICIES = ("no_controls", "historical", "leaky_enforcement", "domestic_push", "total_embargo")


def mean_gap(job: tuple[str, int, dict[str, float]]) -> tuple[str, int, dict[str, float], float]:
    """China's mean gap over the window, for one scenario, seed and set of overrides."""
    scenario, seed, overrides = job
    model = ChipWarModel(scenario, rng=seed, overrides=overrides or None)
    try:
        df = model.run()
    finally:
        forget(model)
    return scenario, seed, overrides, m_results_mean(df, None, "gap_months", "china", *WINDOW)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[2022, 2023])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    world = default_world_data()
    params = world.parameters
    jobs: list[tuple[str, int, dict[str, float]]] = []
    for seed in args.seeds:
        jobs += [(name, seed, {}) for name in POLICIES]
        for name, spec in params.items():
            lo, hi = spec.range
            if lo == hi:
                continue
            jobs += [("historical", seed, {name: lo}), ("historical", seed, {name: hi})]
    results: dict[tuple[str, str, float], list[float]] = {}
    for scenario, _seed, overrides, gap in stream(mean_gap, jobs, workers=args.workers):
        key = (scenario, *next(iter(overrides.items()))) if overrides else (scenario, "", 0.0)
        results.setdefault(key, []).append(gap)

    def gap_of(key: tuple[str, str, float]) -> float:
        return float(np.mean(results[key]))

    policy = {name: gap_of((name, "", 0.0)) for name in POLICIES}
    rows = []
    for name, spec in params.items():
        lo, hi = spec.range
        if lo == hi:
            continue
        g_lo, g_hi = gap_of(("historical", name, lo)), gap_of(("historical", name, hi))
        rows.append((abs(g_hi - g_lo), name, spec, g_lo, g_hi))
    rows.sort(key=lambda r: -r[0])
    span = max(policy.values()) - min(policy.values())
    lines = [
        f"Measured at commit `{commit_stamp()}`, seeds {', '.join(map(str, args.seeds))} "
        f"(`python tools/sensitivity.py`): China's mean `gap_months` over {WINDOW[0]} to "
        f"{WINDOW[1]}, historical scenario, each parameter at the low and the high end of its "
        "range with the others at their defaults.",
        "",
        "Policy scenarios (same seeds): "
        + ", ".join(f"`{k}` **{v:.1f}**" for k, v in policy.items())
        + f" months: the policies span **{span:.1f} months**.",
        "",
        "| parameter | source | default | range | gap at low end | gap at high end | swing |",
        "|---|---|---|---|---|---|---|",
    ]
    for swing, name, spec, g_lo, g_hi in rows:
        lo, hi = spec.range
        lines.append(
            f"| `{name}` | {spec.source} | {spec.value:g} | {lo:g} – {hi:g} | {g_lo:.1f} | "
            f"{g_hi:.1f} | {swing:.1f} |"
        )
    above = [r for r in rows if r[0] > span]
    lines += [
        "",
        f"{len(above)} parameter(s) swing the gap more than the whole policy span"
        + (": " + ", ".join(f"`{r[1]}` ({r[0]:.1f})" for r in above) if above else "")
        + ".",
    ]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
