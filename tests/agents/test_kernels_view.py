"""The model's own compiled phases (game/sim/month_kernel.py) give their numpy references'
numbers bit for bit on real months: the purchase values, the markets (caps left, the variant
market), the units asked of each vendor, the HBM stacks drawn from the stockpile and the labs'
compute (their pools and largest clusters, capability.measure_compute against
measure_compute_reference), each run both ways on the same inputs every time a month asks;
and a model on the numpy references walks month by month in step with one on the kernels."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import game.sim.market_view as mv
import game.sim.model as model_mod
from game.core.capability import measure_compute_reference
from game.core.ledger import RENTED
from game.sim.model import ChipWarModel
from tests.agents.kernel_cases import CASES

MONTHS = 60


def _bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return np.array_equal(a.view(np.int64), b.view(np.int64))
    return np.array_equal(a, b)


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_month_kernels_match_numpy(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: Counter[str] = Counter()
    units, drawn, measure = (
        model_mod.vendor_units,
        model_mod.stacks_drawn,
        model_mod.measure_compute,
    )

    def units_both(vendor, used, weights, n):  # type: ignore[no-untyped-def]
        out = units(vendor, used, weights, n)
        assert _bits(out, np.bincount(vendor[used], weights=weights[used], minlength=n))
        seen["units"] += 1
        return out

    def drawn_both(vendor, used, bought, per_chip, china):  # type: ignore[no-untyped-def]
        out = drawn(vendor, used, bought, per_chip, china)
        sold = np.bincount(vendor[used], weights=bought[used], minlength=len(per_chip))
        ref = float(np.add.reduce((sold * per_chip)[china], axis=None))
        assert _bits(np.float64(out), np.float64(ref))
        seen["drawn"] += 1
        seen["drawn > 0"] += out > 0
        return out

    def measure_both(held, by_prov, site_of, site_cap, contraband, *rest):  # type: ignore[no-untyped-def]
        args = (held, by_prov, site_of, site_cap, contraband, *rest)
        pools, cluster = measure(*args)
        ref_pools, ref_cluster = measure_compute_reference(*args)
        assert _bits(pools, ref_pools) and _bits(cluster, ref_cluster)
        seen["sites"] += 1
        seen["sites, smuggled"] += bool(by_prov[:, :, contraband].any())
        seen["sites, rented"] += bool(by_prov[:, :, RENTED].any())
        return pools, cluster

    value, markets = mv._value, mv._derive_markets

    def value_both(model: ChipWarModel, view, months: int):  # type: ignore[no-untyped-def]
        out = value(model, view, months)
        ref = mv._value_reference(model, view, months)
        assert all(_bits(a, b) for a, b in zip(out, ref, strict=True))
        assert not any(a.flags.writeable for a in out)
        seen["value"] += 1
        seen["value, a chip not in use"] += not model.chips.used.all()
        return out

    def markets_both(model: ChipWarModel, rules):  # type: ignore[no-untyped-def]
        out = markets(model, rules)
        ref = mv._derive_markets_reference(model, rules)
        assert _bits(out[0], ref[0]) and not out[0].flags.writeable
        assert out[1:3] == ref[1:3] and type(out[1]) is type(ref[1])
        assert _bits(np.float64(out[3]), np.float64(ref[3])) and type(out[3]) is type(ref[3])
        seen["markets"] += 1
        seen["markets, capped"] += bool(np.isfinite(out[0]).any())
        seen["markets, variant market"] += out[1] >= 0
        return out

    monkeypatch.setattr(mv, "_value", value_both)
    monkeypatch.setattr(mv, "_derive_markets", markets_both)
    monkeypatch.setattr(model_mod, "vendor_units", units_both)
    # the units' own kernel is the model's way where tell_orders' fused one does not apply:
    # taken every month here (tell_orders: tests/agents/test_kernels_vendors.py)
    monkeypatch.setattr(model_mod.ChipVendor, "tell_orders", staticmethod(lambda *_: False))
    monkeypatch.setattr(model_mod, "stacks_drawn", drawn_both)
    monkeypatch.setattr(model_mod, "measure_compute", measure_both)
    ChipWarModel(scenario, rng=seed, months=MONTHS).run()
    assert seen["units"] == MONTHS and seen["sites"] == MONTHS
    assert seen["value"] >= MONTHS and seen["markets"] >= MONTHS
    if scenario in ("historical", "total_embargo"):
        assert seen["markets, variant market"] > 0
    if scenario == "historical":
        assert seen["markets, capped"] > 0 and seen["value, a chip not in use"] > 0
    if scenario != "no_controls":  # HBM controls in force: the mixes' stacks are asked
        assert seen["drawn"] > 0 and seen["drawn > 0"] > 0
    if scenario in ("historical", "leaky_enforcement"):
        assert seen["sites, smuggled"] > 0
    if scenario == "historical":
        assert seen["sites, rented"] > 0


@pytest.mark.parametrize(("scenario", "seed"), CASES[:3])
def test_reference_model_walks_in_step(scenario: str, seed: int) -> None:
    """A model whose phases run the numpy references keeps every number of one on the kernels:
    the HBM stockpile, the vendors' mixes and demand, the labs' compute."""
    fast = ChipWarModel(scenario, rng=seed, months=MONTHS)
    slow = ChipWarModel(scenario, rng=seed, months=MONTHS)
    slow._tell_vendors_demand = slow._tell_vendors_demand_reference  # type: ignore[method-assign]
    slow._draw_hbm_stockpile = slow._draw_hbm_stockpile_reference  # type: ignore[method-assign]
    slow.measure_lab_compute = slow.measure_lab_compute_reference  # type: ignore[method-assign]
    for _ in range(MONTHS):
        fast.step()
        slow.step()
        assert fast.hbm == slow.hbm
        for a, b in zip(fast.vendors, slow.vendors, strict=True):
            assert (a.mix is None) == (b.mix is None)
            if a.mix is not None:
                assert _bits(a.mix, b.mix)
            assert a.state() == b.state()
        assert _bits(fast.view.lab_pool_flops, slow.view.lab_pool_flops)
        assert _bits(fast.view.lab_cluster_flops, slow.view.lab_cluster_flops)
        assert _bits(fast.view.vendor_capacity, slow.view.vendor_capacity)
    assert fast.results().equals(slow.results())


def test_kept_site_caps_follow_the_rented_cluster_cap() -> None:
    """measure_lab_compute keeps the sites' caps in the view: a cap set anew (a smaller one,
    then -0.0 after 0.0) is read at once, as the numpy reference reads it."""
    model = ChipWarModel("historical", rng=1, months=24)
    for _ in range(24):
        model.step()
    clusters = []
    for cap in (model.p.rented_cluster_chips, 100.0, 0.0, -0.0, 5e4):
        model.p.rented_cluster_chips = cap
        model.measure_lab_compute()
        got = model.view.lab_cluster_flops.copy()
        model.measure_lab_compute_reference()
        want = model.view.lab_cluster_flops
        assert np.array_equal(got.view(np.int64), want.view(np.int64)), cap
        clusters.append(got)
    assert not np.array_equal(clusters[0], clusters[1])  # the cap is read: a stale one shows
