"""The compute ledger books every chip: produced = installed + in transit + seized + retired."""

from __future__ import annotations

import numpy as np

from game.core.ledger import LEGAL, RENTED, SMUGGLED, Ledger


def _balanced(led: Ledger) -> bool:
    return not led.conservation_error().any()


def test_every_flow_keeps_the_books_balanced() -> None:
    rng = np.random.default_rng(0)
    led = Ledger(n_holders=5, n_chips=3, service_life=4)
    led.install_new(
        np.array([0, 1, 1]),
        np.array([0, 2, 2]),
        np.array([LEGAL, LEGAL, RENTED]),
        np.array([100, 50, 20]),
        year=2022,
    )
    assert _balanced(led) and led.installed().tolist() == [100, 0, 70]
    led.dispatch(np.array([0, 30, 0]))
    assert _balanced(led) and led.in_transit.tolist() == [0, 30, 0]
    led.seize(np.array([0, 10, 0]))
    led.deliver(np.array([0, 0, 20, 0, 0]), chip=1, year=2023)
    assert _balanced(led) and led.in_transit.sum() == 0
    assert led.stock[2, 1, SMUGGLED].sum() == 20 and led.seized.tolist() == [0, 10, 0]
    moved = led.transfer_provenance(np.array([1]), RENTED, to_holder=4, to_prov=LEGAL)
    assert moved == 20 and _balanced(led)
    led.fail(rng, 0.5)
    assert _balanced(led) and led.retired.sum() > 0
    assert (led.stock >= 0).all()


def test_cohorts_retire_after_their_service_life() -> None:
    led = Ledger(n_holders=1, n_chips=1, service_life=4)
    led.install_initial(0, 0, LEGAL, 10, year=2019)
    led.install_initial(0, 0, LEGAL, 5, year=2021)
    assert led.retire_cohort(2022).tolist() == [0]
    assert led.retire_cohort(2023).tolist() == [10]  # 2019 + 4
    assert led.installed().tolist() == [5]
    assert led.retire_cohort(2025).tolist() == [5]
    assert _balanced(led) and led.retired.tolist() == [15]


def test_conservation_error_detects_a_lost_chip() -> None:
    led = Ledger(n_holders=1, n_chips=2, service_life=3)
    led.install_initial(0, 1, LEGAL, 7, year=2021)
    led.stock[0, 1, LEGAL, :] = 0
    assert led.conservation_error().tolist() == [0, 7]
