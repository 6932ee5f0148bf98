"""The labs' month workspaces (agents.lab._Workspace, _TrainWorkspace): the arrays procure's
and train's kernels write and hand each other within a month live in the model's own view,
not in anything two models, a model and its deep copy, or two months' books could share.
A workspace shared by mistake would let one model's month overwrite another's numbers."""

from __future__ import annotations

import copy

import numpy as np

from game.sim.model import ChipWarModel

WORKSPACES = ("lab_workspace", "lab_train_workspace")


def _fingerprint(model: ChipWarModel) -> list[np.ndarray]:
    labs, books = model.labs, model.books
    return [
        a.copy()
        for a in (
            labs.cash, labs.capability, labs.run_flop, model.ledger.by_provenance(),
            books.bought_by_lab, books.bought_per_chip, books.asked_per_chip,
            books.revenue_by_bloc,
        )
    ]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    pairs = zip(a, b, strict=True)
    return all(x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True) for x, y in pairs)


def _arrays(model: ChipWarModel) -> list[np.ndarray]:
    derived = model.view.derived
    return [a for name in WORKSPACES for a in vars(derived[name][1]).values()]


def test_two_models_stepped_in_turn_keep_their_own_numbers() -> None:
    months = 30
    alone = []
    for seed in (3, 4):
        model = ChipWarModel("historical", rng=seed)
        prints = []
        for _ in range(months):
            model.step()
            prints.append(_fingerprint(model))
        alone.append(prints)
    a, b = ChipWarModel("historical", rng=3), ChipWarModel("historical", rng=4)
    for month in range(months):
        a.step()
        b.step()
        assert _same(_fingerprint(a), alone[0][month]), month
        assert _same(_fingerprint(b), alone[1][month]), month
    for x in _arrays(a):
        assert not any(np.shares_memory(x, y) for y in _arrays(b))


def test_a_deep_copy_steps_as_its_original_without_sharing_a_workspace() -> None:
    model = ChipWarModel("historical", rng=5)
    for _ in range(12):
        model.step()
    twin = copy.deepcopy(model)
    for x in _arrays(model):
        assert not any(np.shares_memory(x, y) for y in _arrays(twin))
    for _ in range(6):
        model.step()
        twin.step()
        assert _same(_fingerprint(model), _fingerprint(twin))


def test_the_books_keep_their_month_after_the_next() -> None:
    """procure writes bought_by_lab, asked_per_chip and revenue_by_bloc into the month's own
    new books: a month's books read after the next month stepped still hold their month."""
    model = ChipWarModel("historical", rng=6)
    for _ in range(20):
        model.step()
    books = model.books
    kept = _fingerprint(model)[4:]
    model.step()
    assert model.books is not books
    now = [books.bought_by_lab, books.bought_per_chip, books.asked_per_chip,
           books.revenue_by_bloc]
    assert _same(now, kept)
    assert not _same(_fingerprint(model)[4:], kept)  # the next month bought something else
    for x in _arrays(model):
        assert not any(np.shares_memory(x, y) for y in now)
