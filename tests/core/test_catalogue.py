"""The catalogue's kept answers are those made anew: ChipTable.turns_over (the months in
which a chip goes on sale or leaves sale, kept across months) against its reference, month
by month of a real run, after a release written in place and after a new variant."""

from __future__ import annotations

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
