"""A scenario read twice is parsed once, and read again as soon as any of its files changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from game.config.paths import POLICY_DIR
from game.config.scenario import load_scenario


def test_a_scenario_is_read_again_when_its_file_or_its_parent_changes(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    first = load_scenario("leaky_enforcement", policy_dir=policies)
    assert load_scenario("leaky_enforcement", policy_dir=policies) is first
    # the parent it extends changes: the child is built again
    parent = policies / "historical.yaml"
    parent.write_text(parent.read_text().replace("end: 2030-12", "end: 2029-12"))
    second = load_scenario("leaky_enforcement", policy_dir=policies)
    assert second is not first and second.end == first.end - 12
    # its own file changes
    own = policies / "leaky_enforcement.yaml"
    own.write_text(
        own.read_text().replace("smuggling_detection: 0.03", "smuggling_detection: 0.05")
    )
    third = load_scenario("leaky_enforcement", policy_dir=policies)
    assert third.parameters["smuggling_detection"] == 0.05
