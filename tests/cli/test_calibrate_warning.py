"""`calibrate --sample N` with few runs warns that the parameter a target 'moves with most' is
mostly chance, and says how much chance reaches."""

from __future__ import annotations

from game.cli import MIN_SAMPLE_TO_RANK, _few_samples_warning


def test_few_samples_warn_with_the_chance_level() -> None:
    text = _few_samples_warning(8)
    assert text.startswith("warning: most_sensitive_to is the largest of ")
    assert "over 8 runs; chance alone reaches about 1.00" in text
    assert f"below --sample {MIN_SAMPLE_TO_RANK}" in text
    assert "about 0.3" in _few_samples_warning(MIN_SAMPLE_TO_RANK)
