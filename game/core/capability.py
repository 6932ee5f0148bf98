"""From training compute to capability, and the gap between blocs in months.

Capability index = points_per_decade x (log10(effective training FLOP) - 20), where effective
training FLOP = physical FLOP of a lab's training run x its bloc's algorithmic efficiency
(1 in October 2022). Each tenfold of effective compute adds the same number of points (10 by
default): GPT-4 (~2e25 FLOP, 2023) scores about 53, a 1e26 FLOP run with 2025 algorithms about 70.
A log-compute index keeps the scaling-law intuition (steady gains need exponential compute) and
makes the gap in months well defined.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from game.core.bloc_kernel import bloc_frontier_kernel, bloc_median_kernel
from game.core.cluster_kernel import lab_compute_kernel, largest_cluster_kernel
from game.core.gap_kernel import cycle_append, gaps_into, leader_extend
from game.core.growth_kernel import efficiency_exponent
from game.core.ledger import SITES

SECONDS_PER_MONTH = 365.25 * 24 * 3600 / 12
HOME = SITES.index("home")  # where a lab's own and its smuggled chips stand
_LOG_2 = np.log(2.0)  # grow_efficiency_reference's np.log(2.0), taken once


def _unit(x: np.ndarray) -> np.ndarray:
    """np.clip(x, 0, 1) (NaN stays NaN) without np.clip's dispatch, which on a few blocs'
    numbers costs several times the arithmetic."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def capability_index(effective_flop: np.ndarray | float, points_per_decade: float) -> np.ndarray:
    """NaN where there is no model yet (zero compute)."""
    f = np.asarray(effective_flop, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            f > 0, points_per_decade * (np.log10(np.where(f > 0, f, 1.0)) - 20.0), np.nan
        )


def grow_efficiency(
    efficiency: np.ndarray,
    months_elapsed: int,
    doubling_months: float,
    scarcity: np.ndarray,
    bonus: float,
    decay: float,
) -> np.ndarray:
    """Algorithmic efficiency per bloc after one more month.

    Everyone rides the common frontier, doubling every `doubling_months` (Ho et al. measure the
    world's progress). A bloc whose labs hold only a fraction of the compute per dollar others
    do (scarcity 0..1, see compute_scarcity) progresses up to `bonus` faster (quantisation,
    sparsity, distillation), but its lead over the common frontier fades by `decay` a month as
    the ideas spread, so scarcity buys a lasting but bounded edge, not a runaway.
    """
    rate = _LOG_2 / doubling_months
    common = rate * months_elapsed
    # grow_efficiency_reference's arithmetic between its log and exp in one kernel
    # (game/core/growth_kernel.py)
    exponent = efficiency_exponent(
        np.log(efficiency),
        float(common),
        float(rate),
        1.0 - decay,
        float(bonus),
        np.asarray(scarcity, float),
    )
    return np.exp(exponent)


def grow_efficiency_reference(
    efficiency: np.ndarray,
    months_elapsed: int,
    doubling_months: float,
    scarcity: np.ndarray,
    bonus: float,
    decay: float,
) -> np.ndarray:
    """grow_efficiency in numpy, which its kernel reproduces bit for bit: read this one."""
    rate = np.log(2.0) / doubling_months
    common = rate * months_elapsed
    lead = np.log(efficiency) - (common - rate)
    lead = lead * (1.0 - decay) + bonus * _unit(scarcity) * rate
    return np.exp(common + lead)


def technique_adoption(
    scarcity: np.ndarray, months_since: float, rich_share: float, rich_lag_months: float
) -> np.ndarray:
    """Share 0..1 of a training technique's gain (e.g. fine-grained mixture of experts) a lab
    takes, `months_since` its public date (negative: not yet), at its compute scarcity 0..1.

    A lab short of compute has no other way to a better model than to get more out of each
    FLOP, so it adopts a technique fully and at once (DeepSeek: DeepSeekMoE in Jan 2024, at
    scale in DeepSeek-V2 four months later). A lab with compute to spare can buy the same
    result by scaling a simpler, more stable dense model (Meta trained Llama 3.1 405B dense "to
    maximize training stability"), so it takes only `rich_share` of the gain, and that after
    up to `rich_lag_months` (Llama 4, sparse and FP8, Apr 2025). Both move linearly with
    scarcity between the two ends."""
    s = _unit(np.asarray(scarcity, float))
    target = rich_share + (1.0 - rich_share) * s
    lag = rich_lag_months * (1.0 - s)
    ramp = np.divide(
        months_since, lag, out=np.full(s.shape, 1.0 if months_since >= 0 else 0.0), where=lag > 0
    )
    return target * _unit(ramp)


def compute_scarcity(
    flops: np.ndarray, budget: np.ndarray, counted: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] scarcity 0..1: one minus the usable compute (FLOP/s held) per dollar of monthly
    budget of the bloc's counted labs (its active frontier labs), over the best-supplied bloc's.

    It measures compute actually obtained, whatever the route: smuggled and rented chips relieve
    scarcity, and so do a stockpile or a subsidy; controls that are evaded do not create it.
    Per dollar of budget rather than per lab, so that a poorer bloc is not scarce for being
    poor: what drives efficiency under constraint ('necessity breeds innovation') is getting
    less compute for the money. 0 for the best-supplied bloc and for blocs with no such labs.
    """
    held = np.bincount(bloc, weights=np.where(counted, flops, 0.0), minlength=n_blocs)
    money = np.bincount(bloc, weights=np.where(counted, budget, 0.0), minlength=n_blocs)
    per_dollar = np.divide(held, money, out=np.full(n_blocs, np.nan), where=money > 0)
    if not np.logical_or.reduce(np.isfinite(per_dollar), axis=None):
        return np.zeros(n_blocs)
    best = np.fmax.reduce(per_dollar)  # what np.nanmax computes on floats, without its copies
    if best <= 0:
        return np.zeros(n_blocs)
    ratio = per_dollar / best
    return np.where(np.isfinite(ratio), 1.0 - _unit(ratio), 0.0)


def cycle_mean(history: np.ndarray, window: int) -> np.ndarray:
    """[month, bloc] each bloc's frontier averaged over the `window` months to each month (one
    training cycle; fewer at the start), ignoring months without a model.

    A bloc's frontier moves in steps when its best lab's run ends, every `run_months`: read
    month by month, the gap between two blocs then jumps by a whole run's progress and back
    within one cycle (bands about 3.7 months apart in 2030). Averaged over one cycle, the
    steps' timing drops out and what remains is how far behind the bloc is."""
    h = np.asarray(history, float)
    ok = np.isfinite(h)
    pad = np.zeros((1, h.shape[1]))
    total = np.concatenate([pad, np.cumsum(np.where(ok, h, 0.0), axis=0)])
    count = np.concatenate([pad, np.cumsum(ok, axis=0)])
    w = max(1, int(window))
    lo = np.maximum(np.arange(1, len(h) + 1) - w, 0)
    n = count[1:] - count[lo]
    return np.divide(total[1:] - total[lo], n, out=np.full(h.shape, np.nan), where=n > 0)


class RunningCycleMean:
    """cycle_mean of a history that grows a month at a time, kept up as it grows: the same
    sums in the same order as cycle_mean (running totals, then the window's difference), so
    the same numbers to the last bit, without adding up the whole history again each month.
    Each month's sums and mean in one compiled kernel (game/core/gap_kernel.py)."""

    def __init__(self, window: int) -> None:
        self.window = max(1, int(window))
        self._start(None)

    def _start(self, source: list[np.ndarray] | None) -> None:
        """Empty sums, for the history `source`."""
        self._total = np.zeros((0, 0))  # [month + 1, bloc] running sums, row 0 zeros
        self._count = np.zeros((0, 0), np.int64)
        self._rows: np.ndarray | None = None
        self._n = 0
        self._source = source
        self._leader = RunningLeaderPath()  # of these means: starts again with them

    def update(self, history: list[np.ndarray]) -> np.ndarray:
        """[month, bloc] cycle_mean(history, window), for a list that only ever grew since
        the last call (another list, or a shorter one, starts the sums again)."""
        if history is not self._source or len(history) < self._n:
            self._start(history)
        for h in history[self._n :]:
            values = np.asarray(h, float).ravel()
            self._make_room(values.size)
            assert self._rows is not None
            cycle_append(self._total, self._count, self._rows, self._n + 1, self.window, values)
            self._n += 1
        assert self._rows is not None
        return self._rows[: self._n]

    def leader_path(self, column: int) -> np.ndarray:
        """[month] leader_path of one bloc's column of the means as last updated, kept up
        month by month (RunningLeaderPath)."""
        assert self._rows is not None
        return self._leader.update(self._rows[: self._n, column], column)

    def _make_room(self, width: int) -> None:
        """Room for one more month (capacity doubled when full)."""
        if self._rows is not None and self._n < len(self._rows):
            return
        size = max(16, 2 * self._n)
        rows = np.full((size, width), np.nan)
        total = np.zeros((size + 1, width))
        count = np.zeros((size + 1, width), np.int64)
        if self._rows is not None:
            rows[: self._n] = self._rows[: self._n]
            total[: self._n + 1] = self._total[: self._n + 1]
            count[: self._n + 1] = self._count[: self._n + 1]
        self._rows, self._total, self._count = rows, total, count


def leader_path(series: np.ndarray) -> np.ndarray:
    """[month] the leader's path: its best capability so far, rising in a straight line from
    each record to the next rather than in a step when the next model is done.

    Between two records the leader's next model was being trained: reading its progress as a
    step would make a follower just past the old record jump from "behind since the start" to
    "behind since the new record" (in the model the US frontier stands at GPT-4's level for
    its first eight months, and China's gap fell from 14 to 6 months the month it passed it).
    After the last record the path stays flat: nobody knows the next one yet."""
    series = np.asarray(series, float)
    lead = np.fmax.accumulate(np.where(np.isnan(series), -np.inf, series))
    finite = np.isfinite(lead)
    if not finite.any():
        return lead
    rises = np.concatenate([[True], lead[1:] > lead[:-1]])
    records = np.flatnonzero(finite & rises)
    t = np.arange(len(lead))
    between = (t >= records[0]) & (t <= records[-1])
    path = lead.copy()
    path[between] = np.interp(t[between], records, lead[records])
    return path


class RunningLeaderPath:
    """leader_path of a series that grows a month at a time, kept up as it grows. Why: the
    results read the gap every month, and leader_path over the whole history each time made
    the run quadratic in its months. Each month adds its running best; a new record redraws
    only the stretch since the previous one, with np.interp's formula between those two
    records alone, which is what np.interp over all records computes there (each point from
    its own segment's two ends), so the path is the same to the last bit. The months in one
    compiled kernel (game/core/gap_kernel.py)."""

    def __init__(self) -> None:
        self._start(-1)

    def _start(self, column: int) -> None:
        self.column = column
        self._n = 0
        self._lead = np.empty(0)  # running best, -inf before the first model
        self._path = np.empty(0)
        self._last = -1  # the latest record (month index), -1 before the first

    def update(self, series: np.ndarray, column: int) -> np.ndarray:
        """leader_path(series), for a series that only grew since the last call with the same
        `column` (another column, or a shorter series, starts again)."""
        n = len(series)
        if column != self.column or n < self._n:
            self._start(column)
        if len(self._path) < n:
            size = max(16, 2 * n)
            lead, path = np.empty(size), np.empty(size)
            lead[: self._n] = self._lead[: self._n]
            path[: self._n] = self._path[: self._n]
            self._lead, self._path = lead, path
        values = np.asarray(series, float)
        self._last = leader_extend(values, self._lead, self._path, self._n, n, self._last)
        self._n = n
        return self._path[:n]


def gap_months(
    current: np.ndarray,
    history: np.ndarray,
    leader: int,
    points_per_month_before: float,
    lead: np.ndarray | None = None,
) -> np.ndarray:
    """For each bloc, how many months ago the leader's path (leader_path) first reached that
    bloc's capability now.

    history: [months so far, bloc] frontier capability, last row = now. Before the first month
    the leader's capability is extrapolated back at `points_per_month_before` (the pre-2022 trend).
    `lead`: the leader's path already computed (RunningLeaderPath), if the caller keeps it.

    The blocs (a handful) are read one at a time in a compiled kernel (game/core/gap_kernel.py)
    after a search each: the same IEEE operations on the same numbers as the array form, at a
    fraction of its twenty-odd numpy calls on arrays of four (the results ask it every month).
    """
    if lead is None:
        lead = leader_path(history[:, leader])
    if not len(lead):
        raise ValueError("gap_months needs at least one month of the leader's path")
    c = np.asarray(current, float)
    out = np.empty(c.size)
    gaps_into(c.ravel(), np.asarray(lead, float), float(points_per_month_before), out)
    return out.reshape(c.shape)


def bloc_frontier(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the best capability among a bloc's frontier labs (NaN where none has a model):
    bloc_frontier_reference's numbers from a compiled kernel (game/core/bloc_kernel.py), as
    it is asked several times a month."""
    return bloc_frontier_kernel(capability, frontier, bloc, int(n_blocs))


def bloc_frontier_reference(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the best capability among a bloc's frontier labs (NaN where none has a model).
    The rule in Python floats, which the kernel reproduces bit for bit: read this one."""
    has = frontier & np.isfinite(capability)
    out = [-math.inf] * n_blocs
    for b, c in zip(bloc[has].tolist(), capability[has].tolist(), strict=True):
        if c > out[b]:
            out[b] = c
    return np.array([c if math.isfinite(c) else math.nan for c in out], float)


def bloc_median(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the median capability of a bloc's frontier labs (NaN where none has a model):
    bloc_median_reference's numbers from a compiled kernel (game/core/bloc_kernel.py)."""
    return bloc_median_kernel(capability, frontier, bloc, int(n_blocs))


def bloc_median_reference(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the median capability of a bloc's frontier labs (NaN where none has a model).

    The middle one or two of each bloc's sorted capabilities, averaged as np.median averages
    them ((a + b) / 2). The rule in Python floats, which the kernel reproduces bit for bit:
    read this one."""
    has = frontier & np.isfinite(capability)
    runs: list[list[float]] = [[] for _ in range(n_blocs)]
    for b, c in zip(bloc[has].tolist(), capability[has].tolist(), strict=True):
        runs[b].append(c)
    out = []
    for run in runs:
        if not run:
            out.append(math.nan)
            continue
        run.sort()
        n = len(run)
        out.append((run[(n - 1) // 2] + run[n // 2]) / 2.0)
    return np.array(out, float)


def released_foreign(history: list[np.ndarray], lag_months: int) -> np.ndarray:
    """[bloc] the best model of any other bloc old enough to have been released (`lag_months`
    ago): what a follower can distil from. The best of the others is the best of all, or for
    the bloc that holds it the second best (the same value again when two tie). In Python
    floats (a sort and comparisons, exact): a handful of blocs, asked every month."""
    released = history[max(0, len(history) - 1 - lag_months)].tolist()
    then = [-math.inf if v != v else v for v in released]
    if len(then) < 2:
        return np.full(len(then), np.nan)
    ranked = sorted(then)
    first, second = ranked[-1], ranked[-2]
    best = [second if v == first else first for v in then]
    return np.array([v if math.isfinite(v) else math.nan for v in best], float)


def pool_flops(
    held: np.ndarray, flops_per_chip: np.ndarray, ecosystem: np.ndarray, n_ecosystems: int
) -> np.ndarray:
    """[holder, ecosystem] usable FLOP/s of each holder's chips [holder, chip] in each software
    ecosystem's pool (CUDA, ROCm, CANN): a pool runs its own workloads, so holding several
    costs nothing by itself (each chip's own ecosystem factor is already in flops_per_chip)."""
    onehot = _ecosystem_groups(ecosystem, n_ecosystems).onehot  # [C, E]
    return held @ (flops_per_chip[:, None] * onehot)


def site_counts(
    by_provenance: np.ndarray, site_of: np.ndarray, n_sites: int, contraband: int
) -> tuple[np.ndarray, np.ndarray]:
    """Chips by where they stand, from the counts [holder, chip, provenance]: [holder, site,
    chip] of every provenance but the `contraband` one, at the site each provenance stands at
    (ledger.SITES), and [holder, chip] contraband (smuggled) chips, which stand at home."""
    by_prov = by_provenance.astype(float)
    onehot = _sites_onehot(site_of.tobytes(), site_of.dtype.str, n_sites, contraband)  # [P, S]
    # [S, P] @ [H, P, C]: whole counts, so the product sums them exactly in any order
    return onehot.T @ by_prov.transpose(0, 2, 1), by_prov[:, :, contraband]


@functools.lru_cache(maxsize=8)
def _sites_onehot(raw: bytes, dtype: str, n_sites: int, contraband: int) -> np.ndarray:
    """[P, S] each provenance's site, none for contraband: kept by contents (site_counts asks
    every month for the same; read-only)."""
    onehot = np.eye(n_sites)[np.frombuffer(raw, dtype)]
    onehot[contraband] = 0.0
    onehot.flags.writeable = False
    return onehot


def largest_cluster(
    counts: np.ndarray,
    site_cap: np.ndarray,
    contraband: np.ndarray,
    contraband_cap: float,
    flops_per_chip: np.ndarray,
    ecosystem: np.ndarray,
    n_ecosystems: int,
    heterogeneity_penalty: float,
) -> np.ndarray:
    """largest_cluster_reference's numbers, computed by a compiled kernel
    (game/core/cluster_kernel.py)."""
    return largest_cluster_kernel(
        np.ascontiguousarray(counts, float),
        np.asarray(site_cap, float),
        np.ascontiguousarray(contraband, float),
        float(contraband_cap),
        np.ascontiguousarray(flops_per_chip, float),
        ecosystem,
        int(n_ecosystems),
        float(heterogeneity_penalty),
        HOME,
    )


def largest_cluster_reference(
    counts: np.ndarray,
    site_cap: np.ndarray,
    contraband: np.ndarray,
    contraband_cap: float,
    flops_per_chip: np.ndarray,
    ecosystem: np.ndarray,
    n_ecosystems: int,
    heterogeneity_penalty: float,
) -> np.ndarray:
    """The rule in numpy, which the kernel reproduces bit for bit: read this one.
    [holder] FLOP/s of the largest cluster each holder can train one model on, from its
    chips [holder, site, chip] bought openly or rented and its contraband chips [holder, chip]
    at home (site_counts).

    A large run needs one tightly linked cluster in one place, so a cluster never spans sites
    (the lab's own data centres at home, a host's abroad), nor software ecosystems. A site the
    lab does not control holds at most `site_cap` [site] of its chips in one cluster (inf at
    home): a foreign data centre rents a restricted customer a few hundred servers, not a
    frontier cluster. Smuggled chips stand at home but join a cluster only up to
    `contraband_cap` chips: they arrive in broker lots, and a cluster built on many of them is
    hard to hide, power and keep serviced. Within a site and an ecosystem, a lab either trains
    on its largest pool of one chip model or mixes the models it has there ("older and newer
    chips") and loses up to `heterogeneity_penalty`, all of it when the cluster is split evenly,
    less as one model dominates. A fleet bought in one generation at home is one cluster; a
    fleet pieced together from stock, compliant variants, rentals and smuggled lots is several
    smaller ones: that, not its size, is what limits its largest run.
    """
    cap = np.asarray(site_cap, float)[None, :, None]
    # one chip model: its chips at a site up to the site's cap, plus contraband at home
    usable = np.minimum(counts, cap)
    usable[:, HOME, :] += np.minimum(contraband, contraband_cap)
    flops = counts * flops_per_chip  # [H, S, C]
    # np.maximum.reduce: what .max() calls, without its Python wrapper
    single = np.maximum.reduce(usable * flops_per_chip, axis=(1, 2), initial=0.0)
    # models mixed at a site: each source scaled down together to its cap
    # [H, S, E] chips of each ecosystem at each site: whole counts, so any order sums them exactly
    groups = _ecosystem_groups(ecosystem, n_ecosystems)
    onehot = groups.onehot  # [C, E]
    chips_in = counts @ onehot
    room = np.minimum(1.0, np.divide(cap, chips_in, out=np.ones_like(chips_in), where=chips_in > 0))
    contra_in = contraband @ onehot  # [H, E]
    contra_room = np.minimum(
        1.0, np.divide(contraband_cap, contra_in, out=np.ones_like(contra_in), where=contra_in > 0)
    )
    # [H, S, C] each chip's FLOP/s in its own ecosystem's cluster at each site
    usable_flops = flops * room[:, :, ecosystem]
    usable_flops[:, HOME] += contraband * flops_per_chip * contra_room[:, ecosystem]
    total, top = _ecosystem_sum_max(usable_flops, ecosystem, n_ecosystems, groups)
    in_top = np.divide(top, total, out=np.ones_like(total), where=total > 0)
    mixed = total * (1.0 - heterogeneity_penalty * np.minimum(1.0, 2.0 * (1.0 - in_top)))
    return np.maximum(single, np.maximum.reduce(mixed, axis=(0, 2), initial=0.0))


def measure_compute(
    held: np.ndarray,
    by_provenance: np.ndarray,
    site_of: np.ndarray,
    site_cap: np.ndarray,
    contraband: int,
    contraband_cap: float,
    flops_per_chip: np.ndarray,
    ecosystem: np.ndarray,
    n_ecosystems: int,
    heterogeneity_penalty: float,
) -> tuple[np.ndarray, np.ndarray]:
    """measure_compute_reference's numbers: everything but pool_flops's matmul in one compiled
    kernel (game/core/cluster_kernel.py), the matmul numpy's on the same operands."""
    held_f, weights, cluster = lab_compute_kernel(
        held,
        by_provenance,
        site_of,
        np.asarray(site_cap, float),
        int(contraband),
        float(contraband_cap),
        np.ascontiguousarray(flops_per_chip, float),
        ecosystem,
        int(n_ecosystems),
        float(heterogeneity_penalty),
        HOME,
    )
    return held_f @ weights, cluster


def measure_compute_reference(
    held: np.ndarray,
    by_provenance: np.ndarray,
    site_of: np.ndarray,
    site_cap: np.ndarray,
    contraband: int,
    contraband_cap: float,
    flops_per_chip: np.ndarray,
    ecosystem: np.ndarray,
    n_ecosystems: int,
    heterogeneity_penalty: float,
) -> tuple[np.ndarray, np.ndarray]:
    """[holder, ecosystem] usable FLOP/s of each holder's pools (pool_flops of its chips
    `held` [holder, chip]) and [holder] its largest cluster (largest_cluster_reference of its
    chips by site, site_counts of `by_provenance` [holder, chip, provenance], each provenance
    at its site `site_of`, `contraband` apart). The rule in numpy, which measure_compute
    reproduces bit for bit: read this one."""
    pools = pool_flops(held.astype(float), flops_per_chip, ecosystem, n_ecosystems)
    counts, smuggled = site_counts(by_provenance, site_of, len(site_cap), contraband)
    cluster = largest_cluster_reference(
        counts,
        site_cap,
        smuggled,
        contraband_cap,
        flops_per_chip,
        ecosystem,
        n_ecosystems,
        heterogeneity_penalty,
    )
    return pools, cluster


class _EcosystemGroups:
    """The chips of each software ecosystem: [C, E] one-hot, the catalogue in ecosystem order
    (stable) and each ecosystem's [start, end) in it."""

    def __init__(self, ecosystem: np.ndarray, n_ecosystems: int) -> None:
        self.onehot = (ecosystem[:, None] == np.arange(n_ecosystems)).astype(float)
        self.order = np.argsort(ecosystem, kind="stable")
        ends = np.cumsum(np.bincount(ecosystem, minlength=n_ecosystems)).tolist()
        self.spans = [
            (e, lo, hi)
            for e, (lo, hi) in enumerate(zip([0, *ends[:-1]], ends, strict=True))
            if hi > lo
        ]
        # the ecosystems that have chips, and where each one's chips start in `order`
        self.present = np.array([e for e, _, _ in self.spans], np.intp)
        self.starts = np.array([lo for _, lo, _ in self.spans], np.intp)
        self.all_present = len(self.spans) == n_ecosystems
        for a in (self.onehot, self.order, self.present, self.starts):
            a.flags.writeable = False


def _ecosystem_groups(ecosystem: np.ndarray, n_ecosystems: int) -> _EcosystemGroups:
    """_EcosystemGroups of the catalogue's ecosystems, kept by their contents (they move only
    when a chip is added): largest_cluster asks every month."""
    return _groups_of(ecosystem.tobytes(), ecosystem.dtype.str, n_ecosystems)


@functools.lru_cache(maxsize=8)
def _groups_of(raw: bytes, dtype: str, n_ecosystems: int) -> _EcosystemGroups:
    return _EcosystemGroups(np.frombuffer(raw, dtype), n_ecosystems)


def _ecosystem_sum_max(
    flops: np.ndarray,
    ecosystem: np.ndarray,
    n_ecosystems: int,
    groups: _EcosystemGroups | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """[E, H, S] the sum and the largest (0 if none) of `flops` [H, S, C] over each
    ecosystem's chips. Chips are gathered by ecosystem onto a leading axis so that each sum
    adds them one after another in catalogue order: the order a sum over a chip axis that is
    not the last takes, to the last bit, without a [H, S, C, E] array mostly of zeros."""
    if groups is None:
        groups = _ecosystem_groups(ecosystem, n_ecosystems)
    by_eco = np.ascontiguousarray(flops.transpose(2, 0, 1)[groups.order])  # [C, H, S]
    total = np.zeros((n_ecosystems,) + flops.shape[:2])
    for e, lo, hi in groups.spans:
        np.add.reduce(by_eco[lo:hi], axis=0, out=total[e])
    # the largest is the same in any order: every ecosystem's at once
    if not groups.spans:
        return total, np.zeros_like(total)
    tops = np.maximum.reduceat(by_eco, groups.starts, axis=0)
    if groups.all_present:
        return total, tops
    top = np.zeros_like(total)
    top[groups.present] = tops
    return total, top


def training_flops(cluster: np.ndarray, run_share: float) -> np.ndarray:
    """[holder] FLOP/s of each holder's largest training run: `run_share` of its largest
    cluster (largest_cluster); the rest of the fleet serves models and trains smaller runs."""
    return run_share * cluster


def run_reach(
    flop: np.ndarray, month_of: np.ndarray, month: int, growth_per_year: float
) -> np.ndarray:
    """[run] the largest run a finished run of `flop` physical FLOP, finished in `month_of`,
    supports in `month`: flop x growth_per_year ** (months since / 12) (0 where no run)."""
    flop = np.asarray(flop, float)
    since = np.maximum(0.0, month - np.asarray(month_of, float))
    with np.errstate(over="ignore"):
        growth = np.power(float(growth_per_year), since / 12.0)
    return np.multiply(flop, growth, out=np.zeros(np.broadcast(flop, growth).shape), where=flop > 0)


def scale_up_bound(
    ref_flop: np.ndarray,
    ref_month: np.ndarray,
    bloc: np.ndarray,
    n_blocs: int,
    month: int,
    growth_per_year: float,
) -> np.ndarray:
    """[bloc] physical FLOP of the largest run a bloc's labs can finish this month: experience
    bounds scale-up. A run several times larger than any done before needs engineering that
    only doing teaches (parallelism, stability at scale, data pipelines), so a run is at most
    `growth_per_year` ** (months since a finished run / 12) times that run, for the finished
    run of the bloc that allows the most (run_reach; each lab keeps its own such run in
    `ref_flop`, finished in `ref_month`). The bound is the bloc's, not the lab's: know-how
    moves between a bloc's labs through people and papers, and a new lab (no run of its own)
    starts from it. Every run is held under it, so it grows from the bloc's largest run at the
    start at `growth_per_year`; a bloc with no finished run has no bound (inf), nothing to
    measure its experience by, until its first run."""
    return bloc_bound(run_reach(ref_flop, ref_month, month, growth_per_year), bloc, n_blocs)


def bloc_bound(reach: np.ndarray, bloc: np.ndarray, n_blocs: int) -> np.ndarray:
    """[bloc] scale_up_bound from each lab's run_reach already computed: the most any of the
    bloc's runs allows (inf where none has run)."""
    best = np.zeros(n_blocs)
    np.maximum.at(best, bloc, reach)
    return np.where(best > 0, best, np.inf)
