"""The ledger's and the books' flows (game/core/ledger_kernel.py against the *_reference
methods of game.core.ledger.Ledger and game.core.books.MonthBooks; the labs' delivery as
agents/procure_kernel.finish books it) and the labs' smaller cascades (agents/lab_kernel.py
and the fused procure's kernels, procure_kernel.start and offers_kernel.offers_start and
offers_finish, against agents.lab's outside_option_reference, _allocation_arrays_reference,
_rule_arrays_reference, _open_arrays_reference, _cash_and_spend_reference,
_provenance_worth_reference, _scarcity_reference and budget_growth_reference) give numpy's
numbers bit for bit, month after month of real runs.
Each call runs the reference on a deep copy of what it changes (the ledger, the books, the
generator), then the kernel path for real; the state after both, and what they return, must
agree to the last bit (dtypes too). The brokers' phases, which deliver and book their legs in
their own kernels, are held likewise to their references (whose deliveries and legs go
through the ledger's and the books' methods)."""

from __future__ import annotations

import copy
from collections import Counter
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import agents.broker as broker
import agents.lab as lab
from agents import lab_kernel, offers_kernel, procure_kernel
from game.core import ledger_kernel
from game.core.books import MonthBooks
from game.core.ledger import RENTED, SMUGGLED, Ledger
from game.sim.model import ChipWarModel
from tests.agents.kernel_cases import CASES

MONTHS = 60
LEDGER_ARRAYS = ("stock", "produced", "in_transit", "seized", "retired", "_by_prov", "_held")
BOOK_ARRAYS = (
    "revenue_by_bloc", "bought_per_chip", "sales_units", "flows", "smuggled_by_lab",
    "seized_by_lab", "bought_by_lab", "asked_per_chip", "seized_by_route",
)


def _same(a: Any, b: Any) -> bool:
    """Bit-identical arrays of the same dtype and shape (floats compared as their bits), or
    equal plain values of the same type."""
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        a, b = a.astype(np.float64), b.astype(np.float64)
        return np.array_equal(a.view(np.int64), b.view(np.int64))
    return np.array_equal(a, b)


def _differ(a: object, b: object, names: tuple[str, ...]) -> list[str]:
    return [k for k in names if not _same(getattr(a, k), getattr(b, k))]


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every kernel path held to its reference; returns the count of calls (and branches)."""
    seen: Counter = Counter()
    # a keep of its own: rule terms kept by another test's models would not be derived here
    monkeypatch.setattr(lab, "_KEPT_RULE_TERMS", {})

    def ledger_method(name: str) -> None:
        fast, slow = getattr(Ledger, name), getattr(Ledger, f"{name}_reference")

        def both(self: Ledger, *args: Any) -> Any:
            twin = copy.deepcopy(self)
            targs = [copy.deepcopy(a) if isinstance(a, np.random.Generator) else a for a in args]
            want = slow(twin, *targs)
            got = fast(self, *args)
            assert _same(got, want) if want is not None else got is None, name
            assert not _differ(self, twin, LEDGER_ARRAYS), name
            for a, t in zip(args, targs, strict=True):
                if isinstance(a, np.random.Generator):
                    assert a.bit_generator.state == t.bit_generator.state, name
            seen[name] += 1
            return got

        monkeypatch.setattr(Ledger, name, both)

    for name in ("install_new", "deliver", "retire_cohort", "fail"):
        ledger_method(name)

    transfer = Ledger.transfer_provenance

    def transfer_both(self: Ledger, holders: np.ndarray, prov: int, to: int, to_prov: int) -> int:
        # the kernel answers only "anything to move?": the numpy check must say the same
        seen["transfer_provenance"] += 1
        if not self._by_prov[holders, :, prov].any():
            seen["transfer_nothing"] += 1
        return transfer(self, holders, prov, to, to_prov)

    monkeypatch.setattr(Ledger, "transfer_provenance", transfer_both)
    any_held = ledger_kernel.any_held

    def any_held_both(by_prov: np.ndarray, holders: np.ndarray, prov: int) -> bool:
        got = any_held(by_prov, holders, prov)
        assert got == bool(by_prov[holders, :, prov].any())
        seen["any_held", got] += 1
        return got

    monkeypatch.setattr(ledger_kernel, "any_held", any_held_both)

    held = Ledger.held_by_provenance

    def held_both(self: Ledger) -> np.ndarray:
        got = held(self)
        assert _same(got, np.add.reduce(self.by_provenance(), axis=1))
        seen["held_by_provenance"] += 1
        return got

    monkeypatch.setattr(Ledger, "held_by_provenance", held_both)

    def books_method(name: str) -> None:
        fast, slow = getattr(MonthBooks, name), getattr(MonthBooks, f"{name}_reference")

        def both(self: MonthBooks, *args: Any) -> None:
            twin = copy.deepcopy(self)
            slow(twin, *args)
            fast(self, *args)
            assert not _differ(self, twin, BOOK_ARRAYS), (name, _differ(self, twin, BOOK_ARRAYS))
            seen[name] += 1
            if name == "record_smuggling":
                seen["leg", isinstance(args[0], np.ndarray), isinstance(args[1], np.ndarray)] += 1

        monkeypatch.setattr(MonthBooks, name, both)

    for name in ("record_sales", "record_flows", "record_smuggling"):
        books_method(name)

    # The brokers' kernels deliver and book their legs themselves (deliver_column, leg_into
    # called in agents/broker_kernel.py): each phase is held to its numpy reference run on a
    # copy of the model, whose Ledger.deliver and MonthBooks.record_smuggling are the ones
    # above (themselves held to their numpy references).
    def brokers_phase(name: str) -> None:
        fused, reference = getattr(broker, name), getattr(broker, f"{name}_reference")

        def both(model: Any) -> Any:
            twin = copy.deepcopy(model)
            reference(twin)
            got = fused(model)
            assert not _differ(model.ledger, twin.ledger, LEDGER_ARRAYS), name
            assert not _differ(model.books, twin.books, BOOK_ARRAYS), name
            seen["brokers", name] += 1
            return got

        monkeypatch.setattr(broker, name, both)

    for name in ("resolve_shipments", "ship"):
        brokers_phase(name)

    # the ledger's and the books' kernels must be the paths taken, not the fallbacks
    def count_calls(name: str) -> None:
        kernel = getattr(ledger_kernel, name)

        def counted(*args: Any) -> Any:
            seen["kernel", name] += 1
            return kernel(*args)

        monkeypatch.setattr(ledger_kernel, name, counted)

    for name in ("install_rows", "retire_slot", "remove_failed", "deliver_column", "leg_into"):
        count_calls(name)

    # The fused procure (agents.lab.procure): its kernels take what outside_option,
    # _allocation_arrays, _provenance_worth, _cash_and_spend and the ledger's and the books'
    # install_new, record_sales and record_flows computed; each is held to those references
    # on the month it runs in (the model is the one procure runs on).
    now: dict[str, Any] = {}
    fused_procure = lab.procure

    def procure_on(model: Any) -> None:
        now["model"] = model
        try:
            fused_procure(model)
        finally:
            now.clear()

    monkeypatch.setattr(lab, "procure", procure_on)
    start = procure_kernel.start

    def start_both(cash: np.ndarray, budget_in: np.ndarray, budget: np.ndarray,
                   founded: np.ndarray, month: int, cap: float, *rest: Any) -> tuple:
        model = now["model"]
        labs = SimpleNamespace(cash=cash.copy(), budget=budget, founded=founded)
        want = lab._cash_and_spend_reference(SimpleNamespace(labs=labs, month=month), budget_in)
        out = start(cash, budget_in, budget, founded, month, cap, *rest)
        assert out is None
        got = rest[-3:]  # written into procure's workspace: active, spend, joins
        assert _same(cash, labs.cash) and _same(got[0], want[0]) and _same(got[1], want[1])
        seen["cash", bool(got[0].all())] += 1
        worth = got[2] ** (1.0 - model.p.inference_weight_frontier)
        for row, provenance in enumerate((RENTED, SMUGGLED)):
            w = lab._provenance_worth_reference(model, provenance)
            assert _same(worth[row], w), provenance
            seen["provenance_worth", provenance, bool((w < 1.0).any())] += 1
        now["active"], now["spend"] = got[0], got[1]
        return out

    monkeypatch.setattr(procure_kernel, "start", start_both)
    offers_finish = offers_kernel.offers_finish

    def offers_finish_both(*args: Any) -> tuple:
        model = now["model"]
        got = offers_finish(*args)
        offers = lab._offers_reference(model, now["active"])
        mandate = float(model.policy.get("buy_domestic_mandate"))
        want = lab._allocation_arrays_reference(model, offers, now["spend"], mandate)
        view, chips = model.view, model.chips
        outside = lab.outside_option_reference(
            view.purchase_value, chips.price, chips.on_sale(model.month),
            model.p.choice_sharpness, model.p.reservation_markup,
        )[model.labs.growth_kind]
        choices, paid, per_money, cap_left, vendor_left = args[-7:-2]
        n, capped = got
        vals, idx = args[-2][:n], args[-1][:n]
        assert _same(choices[:, -1], outside)  # the outside option, each lab's
        seen["outside_option"] += 1
        on_sale = chips.on_sale(model.month)
        opened = lab._open_arrays_reference(offers.rules, model, on_sale, now["active"])
        # offers_start wrote them into procure's workspace: domestic for the allocation,
        # the others for offers_finish
        domestic = model.view.derived["lab_workspace"][1].domestic
        for got_open, want_open in zip((*args[11:12], domestic, *args[12:16]), opened,
                                       strict=True):
            assert _same(got_open, want_open)
        seen["open_sources", view.gray_chip >= 0, bool(opened[2].any())] += 1
        for g, w in ((choices, want[0]), (per_money, want[2]), (paid, want[7]),
                     (capped, want[9]), (cap_left, want[15]), (vendor_left, want[16])):
            assert _same(g, w)
        assert cap_left is not view.cap_left and vendor_left is not view.vendor_capacity
        want_vals, want_idx = procure_kernel.shift(want[0])
        assert _same(vals, want_vals) and _same(idx, want_idx)
        seen["allocation_arrays", "mandate" if mandate > 0 else "free"] += 1
        seen["allocation_arrays", "capped" if capped else "uncapped"] += 1
        return got

    monkeypatch.setattr(offers_kernel, "offers_finish", offers_finish_both)
    finish = procure_kernel.finish

    def finish_both(*args: Any) -> tuple:
        # the delivery booked in the kernel: the ledger's install_new and the books'
        # record_sales and record_flows, their numpy references, on twins
        model = now["model"]
        ledger, books = model.ledger, model.books
        twin_ledger, twin_books = copy.deepcopy(ledger), copy.deepcopy(books)
        got = finish(*args)
        booked, per_chip = got
        got_d, got_r, cost, bought, revenue = args[-5:]  # written into the workspace, books
        assert bought is books.bought_by_lab and revenue is books.revenue_by_bloc
        assert _same(bought, np.add.reduce(got_d + got_r, axis=1))
        provenance, has_host, vendor, vendor_country = args[27], args[29], args[15], args[35]
        h_d, c_d = got_d.nonzero()
        h_r, c_r = got_r.nonzero()
        prov_d, qty_d, qty_r = provenance[h_d, c_d], got_d[h_d, c_d], got_r[h_r, c_r]
        if has_host:
            rows = (np.concatenate((h_d, h_r)), np.concatenate((c_d, c_r)),
                    np.concatenate((prov_d, np.full(h_r.size, RENTED))),
                    np.concatenate((qty_d, qty_r)))
        else:
            rows = (h_d, c_d, prov_d, qty_d)
        twin_ledger.install_new_reference(*rows, model.year)
        assert not _differ(ledger, twin_ledger, LEDGER_ARRAYS)
        assert booked
        twin_books.record_sales_reference(got_d, got_r, cost)
        assert _same(revenue, twin_books.revenue_by_bloc)
        assert _same(per_chip, twin_books.bought_per_chip)
        twin_books.record_flows_reference(
            h_d, vendor_country[vendor[c_d]], prov_d, qty_d, h_r, qty_r
        )
        differ = _differ(books, twin_books, ("sales_units", "flows"))
        assert not differ, differ
        seen["booked", bool(h_r.size), bool(h_d.size)] += 1
        return got

    monkeypatch.setattr(procure_kernel, "finish", finish_both)

    def scarcity_both(model: Any) -> np.ndarray:
        got, want = lab_kernel_scarcity(model), lab._scarcity_reference(model)
        assert _same(got, want)
        seen["scarcity", bool(got.any())] += 1
        return got

    rules_init = lab._RuleTerms.__init__

    def rules_both(self: Any, model: Any) -> None:
        rules_init(self, model)
        want = lab._rule_arrays_reference(model)
        got = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        assert sorted(got) == sorted(want)
        for name, w in want.items():
            assert _same(got[name], w), name
            if isinstance(w, np.ndarray):
                assert not got[name].flags.writeable, name
        host = model.view.rental_host
        seen["rule_terms", host >= 0, self.rent_cut.size > 0, self.any_checks] += 1

    monkeypatch.setattr(lab._RuleTerms, "__init__", rules_both)
    open_init = lab._OpenSources.__init__
    open_names = ("may_buy", "domestic", "rentable", "rental_risk", "wants_gray",
                  "smuggling_risk")

    def open_both(self: Any, rules: Any, model: Any, on_sale: np.ndarray,
                  active: np.ndarray) -> None:
        open_init(self, rules, model, on_sale, active)
        want = lab._open_arrays_reference(rules, model, on_sale, active)
        for name, w in zip(open_names, want, strict=True):
            assert _same(getattr(self, name), w), name
            assert not getattr(self, name).flags.writeable
        seen["open_sources", model.view.gray_chip >= 0, bool(self.rentable.any())] += 1

    monkeypatch.setattr(lab._OpenSources, "__init__", open_both)
    grow = lab.budget_growth

    def grow_both(model: Any) -> None:
        labs = model.labs
        before = labs.budget.copy(), labs.budget_factor.copy()
        lab.budget_growth_reference(model)
        want = labs.budget.copy(), labs.budget_factor.copy()
        labs.budget[:], labs.budget_factor[:] = before
        grow(model)
        assert _same(labs.budget, want[0]) and _same(labs.budget_factor, want[1])
        seen["budget_growth", model.budget_path.get(model.year) is not None] += 1
        seen["budget_growth", "state", bool((labs.budget_factor != 1.0).any())] += 1

    monkeypatch.setattr(lab, "budget_growth", grow_both)
    lab_kernel_scarcity = lab._scarcity
    monkeypatch.setattr(lab, "_scarcity", scarcity_both)
    assert lab_kernel.scarcity_of is not None
    return seen


@pytest.mark.parametrize("case", CASES, ids=[f"{s}-{r}" for s, r in CASES])
def test_kernels_match_their_references(checked: Counter, case: tuple[str, int]) -> None:
    scenario, seed = case
    model = ChipWarModel(scenario, rng=seed)
    for _ in range(MONTHS):
        model.step()
    assert not model.ledger.totals_error()
    assert not np.any(model.ledger.conservation_error())
    for name in ("install_new", "retire_cohort", "fail", "outside_option"):
        assert checked[name] >= 4, (name, checked)
    for name in ("install_rows", "retire_slot", "remove_failed"):
        assert checked["kernel", name] >= 4, (name, checked)
    assert checked["allocation_arrays", "free"] + checked["allocation_arrays", "mandate"] == MONTHS
    # the labs' delivery is booked in procure's last kernel, held to the references there
    # (finish_both), not through the ledger's and the books' methods
    assert checked["record_sales"] == checked["record_flows"] == 0
    assert sum(n for k, n in checked.items() if k[0] == "booked") == MONTHS
    assert checked["brokers", "resolve_shipments"] == checked["brokers", "ship"] == MONTHS
    if scenario != "no_controls":  # the gray market runs: smuggling legs, arrivals
        assert checked["record_smuggling"] == checked["kernel", "leg_into"] > 0
        assert checked["deliver"] == checked["kernel", "deliver_column"] > 0
    # every call took the kernel path, none the numpy fallback
    assert checked["kernel", "install_rows"] == checked["install_new"]


def test_every_branch_was_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the cases together (and one with a scenario's yearly budget growth): under the
    mandate and without, with a binding diffusion cap and without, remote access cut with
    chips to move and without, both ends of a smuggling leg as one country and as many,
    budgets on a set path and on the curve, with the state's answer to a subsidy and without."""
    total: Counter = Counter()
    for scenario, seed in [*CASES, ("historical", 8)]:
        with monkeypatch.context() as m:
            seen = checked.__wrapped__(m)  # type: ignore[attr-defined]
            model = ChipWarModel(scenario, rng=seed)
            if seed == 8:  # a scenario's yearly budget growth for some blocs (no shipped one has)
                n_blocs = len(model.bloc_ids)
                model.budget_path = {
                    model.year + k: np.where(np.arange(n_blocs) % 2 == 0, 1.4 + 0.1 * k, np.nan)
                    for k in range(3)
                }
            for _ in range(MONTHS):
                model.step()
            total.update(seen)
    print(dict(total))
    for key in [
        ("allocation_arrays", "mandate"), ("allocation_arrays", "free"),
        ("allocation_arrays", "capped"), ("allocation_arrays", "uncapped"),
        ("any_held", True), ("any_held", False),
        ("scarcity", True),
        ("cash", True), ("cash", False),
        ("rule_terms", True, False, False), ("rule_terms", True, True, False),
        ("open_sources", True, True), ("open_sources", False, False),
        ("provenance_worth", RENTED, True), ("provenance_worth", SMUGGLED, True),
        ("booked", True, True), ("booked", False, True),
        ("budget_growth", True), ("budget_growth", False),
        ("budget_growth", "state", True), ("budget_growth", "state", False),
        ("leg", False, True), ("leg", True, False),
    ]:
        assert total[key] > 0, (key, dict(total))


def test_the_views_follow_a_copied_ledger() -> None:
    """The read-only views are made once per ledger: a copy's views are its own totals'."""
    led = Ledger(3, 4, 5)
    led.install_new(np.array([0, 2]), np.array([1, 3]), np.array([0, 4]), np.array([5, 7]), 2024)
    assert led.by_provenance()[2, 3, 4] == 7 and led.chips_held()[0, 1] == 5
    twin = copy.deepcopy(led)
    twin.install_new(np.array([1]), np.array([0]), np.array([2]), np.array([3]), 2024)
    assert twin.by_provenance()[1, 0, 2] == 3 and twin.chips_held()[1, 0] == 3
    assert led.by_provenance()[1, 0, 2] == 0 and led.chips_held()[1, 0] == 0
    assert not led.by_provenance().flags.writeable and not twin.chips_held().flags.writeable
    led.recount()
    assert led.by_provenance()[2, 3, 4] == 7 and not twin.totals_error()


class _Levers:
    """The model's levers with some read otherwise."""

    def __init__(self, policy: Any, over: dict[str, Any]) -> None:
        self.policy, self.over = policy, over

    def get(self, lever: str, target: str | None = None) -> Any:
        if target is None and lever in self.over:
            return self.over[lever]
        return self.policy.get(lever, target)


@pytest.mark.parametrize("scenario, seed", [("historical", 1), ("total_embargo", 2)])
def test_rule_terms_on_every_branch(scenario: str, seed: int) -> None:
    """The rule terms with no rental host, with customs checks where labs stand, with remote
    access cut and a guidance against foreign chips: the kernel's arrays are the reference's."""
    model = ChipWarModel(scenario, rng=seed)
    branches = Counter()
    policy, view = model.policy, model.view
    for month in range(36):
        model.step()
        if month % 6:
            continue
        view = model.view
        saved = view.rental_host, view.customs_effort
        effort = np.where(np.arange(saved[1].size) % 3 == 0, 2.5, saved[1])
        try:
            for host in (saved[0], -1):
                for customs in (saved[1], effort):
                    for over in ({}, {"remote_access_controls": True,
                                      "foreign_chip_discouragement": 0.4}):
                        view.rental_host, view.customs_effort = host, customs
                        model.policy = _Levers(policy, over)
                        got, want = lab._rule_arrays(model), lab._rule_arrays_reference(model)
                        assert sorted(got) == sorted(want)
                        for name, w in want.items():
                            assert _same(got[name], w), (name, host, over)
                        branches[host >= 0, bool(got["any_checks"]), got["rent_cut"].size > 0] += 1
        finally:
            view.rental_host, view.customs_effort = saved
            model.policy = policy
    assert branches[True, True, True] and branches[False, False, False], branches
    assert branches[True, False, False] or branches[True, False, True], branches
