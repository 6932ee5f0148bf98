"""The catalogue's kept answers are those made anew: ChipTable.turns_over (the months in
which a chip goes on sale or leaves sale, kept across months) against its reference, month
by month of a real run, after a release written in place and after a new variant;
ChipTable.on_sale (the same array while the same chips are on sale) and counted_by (kept on
on_sale's identity) against the rule made anew, months back and forth."""

from __future__ import annotations

import numpy as np

from game.core.catalogue import NEVER
from game.sim.model import ChipWarModel
from game.sim.runner import forget


def _all_months_agree(model: ChipWarModel) -> int:
    """How many months of the run's span turn over; fails on any month that disagrees."""
    chips, turning = model.chips, 0
    for month in range(model.start - 2, model.start + model.horizon + 2):
        kept = chips.turns_over(month)
        assert type(kept) is bool and kept == chips.turns_over_reference(month), month
        turning += kept
    return turning


def test_turns_over_keeps_the_references_answer_as_releases_move() -> None:
    model = ChipWarModel("historical", rng=1, months=30)
    try:
        model.run()
        chips = model.chips
        assert _all_months_agree(model) > 0
        month = next(m for m in range(model.month, NEVER) if not chips.turns_over_reference(m))
        assert not chips.turns_over(month)
        chip, was = 0, int(chips.available_from[0])
        chips.available_from[chip] = month  # a release written in place
        assert chips.turns_over(month) and chips.turns_over_reference(month)
        _all_months_agree(model)
        chips.add_variant(0, "X1", "X1", 1.0, 1.0, 1.0, month + 2)  # the revision moves
        assert chips.turns_over(month + 2)
        _all_months_agree(model)
        chips.available_from[chip] = was
        assert not chips.turns_over(month)
        _all_months_agree(model)
    finally:
        forget(model)


def _on_sale_agrees(model: ChipWarModel, months: list[int]) -> int:
    """on_sale's kept array against the rule made anew, in the order given (back and forth
    over the run's span); returns how often the kept array was the month before's."""
    chips, kept, same = model.chips, None, 0
    for month in months:
        got = chips.on_sale(month)
        assert not got.flags.writeable
        assert got.dtype == bool and np.array_equal(got, chips.on_sale_reference(month)), month
        # the month before's array given again: checked above against this month's rule
        same += got is kept
        kept = got
    return same


def test_on_sale_keeps_the_references_answer_across_months_releases_and_variants() -> None:
    model = ChipWarModel("historical", rng=1, months=30)
    try:
        model.run()
        chips = model.chips
        span = list(range(model.start - 3, model.start + model.horizon + 30))
        jumps = span[::7] + span[::-5] + [span[0], span[-1], span[0]]
        assert _on_sale_agrees(model, span) > 0
        _on_sale_agrees(model, jumps)
        _on_sale_agrees(model, span[::-1])
        month = model.month
        chip = int(np.flatnonzero(chips.on_sale(month))[0])
        was = int(chips.available_from[chip])
        before = chips.on_sale(month)
        chips.available_from[chip] = month + 1  # written in place: off sale this month
        assert not chips.on_sale(month)[chip] and chips.on_sale(month + 1)[chip]
        assert chips.on_sale(month) is not before
        _on_sale_agrees(model, span + jumps)
        chips.add_variant(chip, "X1", "X1", 1.0, 1.0, 1.0, month + 2)  # the revision moves
        assert chips.on_sale(month + 2)[chips.index("X1")]
        _on_sale_agrees(model, jumps + span)
        chips.available_from[chip] = was
        _on_sale_agrees(model, span[::-1] + jumps)
    finally:
        forget(model)


def test_counted_by_follows_the_chips_on_sale() -> None:
    """counted_by is kept on on_sale's array's identity: against the rule made anew as the
    months and a release written in place move the chips on sale."""
    model = ChipWarModel("historical", rng=1, months=30)
    try:
        model.run()
        chips, n = model.chips, len(model.vendors)
        own = chips.owned_by(n)

        def fresh(month: int) -> np.ndarray:
            selling = own & chips.on_sale_reference(month)[None, :]
            has = selling.any(axis=1)
            return np.where(has[:, None], selling, own)

        months = list(range(model.start - 3, model.start + model.horizon + 30, 2))
        for month in months + months[::-1]:
            assert np.array_equal(chips.counted_by(n, month), fresh(month)), month
        chip = int(np.flatnonzero(chips.on_sale(model.month))[0])
        chips.available_from[chip] = NEVER  # off sale, written in place
        for month in months:
            assert np.array_equal(chips.counted_by(n, month), fresh(month)), month
    finally:
        forget(model)
