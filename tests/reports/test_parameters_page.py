"""docs/parameters.md is generated from the data and must say what the data says."""

from __future__ import annotations

from pathlib import Path

from game.config.world import default_world_data
from game.reports.parameters_page import UNSOURCED, parameters_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_parameters_page_is_current() -> None:
    page = (ROOT / "docs" / "parameters.md").read_text()
    assert page == parameters_markdown(default_world_data()), (
        "docs/parameters.md differs from assets/data/parameters.yaml: "
        "run python tools/parameters_table.py"
    )


def test_every_parameter_is_on_the_page_once_under_its_kind() -> None:
    world = default_world_data()
    page = parameters_markdown(world)
    assumptions, sourced = page.split("## 2. Sourced")
    for name, spec in world.parameters.items():
        row = f"| `{name}` |"
        assert page.count(row) == 1, name
        assert row in (assumptions if spec.source in UNSOURCED else sourced), name
