"""World ids live in the data only: the two sides of the contest, the roles and their goals,
the bots' thresholds. The code names no government, vendor or lab; a bad roles or actors file
is refused with its line and key."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from game.config.errors import InputError
from game.config.paths import DATA_DIR
from game.config.roles import load_roles
from game.config.world import default_world_data, load_world_data

ROOT = Path(__file__).resolve().parents[2]
# Presentation keyed by bloc id (colours, short names) may name blocs; nothing else may.
PRESENTATION = {"game/ui/palette.py", "game/reports/debrief/charts.py"}
WORLD_IDS = re.compile(r"""["'](us|china|nvidia|amd|huawei|deepseek|openai)["']""")


def test_the_code_names_no_world_id() -> None:
    found = []
    for folder in ("game", "agents"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in PRESENTATION:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if WORLD_IDS.search(code):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert found == [], "world ids belong in assets/data or policies/"


def test_the_sides_and_roles_come_from_the_data() -> None:
    world = default_world_data()
    assert world.government_on("controller").id == "us"
    assert world.controller_bloc == "us" and world.target_bloc == "china"
    roles = load_roles()
    assert roles["vendor"].actor == "nvidia" and roles["lab"].actor == "deepseek"
    assert "17 months" in roles["us"].objective  # the goal's number, filled in from the data


def _data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


def test_two_controllers_are_refused(tmp_path: Path) -> None:
    folder = _data_copy(tmp_path)
    actors = folder / "actors.yaml"
    actors.write_text(actors.read_text().replace("side: target}", "side: controller}"))
    with pytest.raises(InputError) as caught:
        load_world_data(folder)
    text = str(caught.value)
    assert "actors.yaml:" in text and "exactly one government with side: controller" in text
    assert "exactly one government with side: target" in text


def test_a_role_for_an_unknown_actor_or_owner_is_refused(tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    text = (DATA_DIR / "roles.yaml").read_text()
    text = text.replace("actor: deepseek", "actor: deepmind").replace(
        "owner: vendor", "owner: vendors"
    )
    roles.write_text(text)
    with pytest.raises(InputError) as caught:
        load_roles(roles)
    message = str(caught.value)
    assert re.search(r"roles\.yaml:\d+: roles\[\d\]\.actor: unknown actor 'deepmind'", message)
    assert re.search(r"roles\.yaml:\d+: roles\[\d\]\.owner: unknown lever owner 'vendors'", message)


def test_an_objective_naming_a_number_its_goal_lacks_is_refused(tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    text = (DATA_DIR / "roles.yaml").read_text().replace("{gap_target_months:g}", "{gap:g}")
    roles.write_text(text)
    with pytest.raises(InputError, match=r"objective: names 'gap'"):
        load_roles(roles)


def test_every_source_a_data_comment_cites_is_defined() -> None:
    """A figure's comment may cite its source as [key]; the key must be in that file's sources."""
    import yaml

    for path in sorted(DATA_DIR.glob("*.yaml")):
        text = path.read_text()
        sources = (yaml.safe_load(text) or {}).get("sources", {}) or {}
        cited = set(re.findall(r"#[^\n]*\[([a-z][a-z0-9_]+)\]", text))
        missing = sorted(cited - set(sources))
        assert missing == [], f"{path.name}: {missing}"
