"""An install that works anywhere: the wheel built from this checkout, installed with its
dependencies into a fresh venv, runs from another folder on the data it carries (game/_data/),
never the checkout's, and writes the user's files where the user said or in the user's data
folder, never into the package.

Slow (about a minute, most of it pip installing the dependencies into the fresh venv; pip's
cache and the package index serve them), so the venv is built once for the module. It runs in
the normal test command all the same: it is the only test that sees the project the way
someone who ran `pip install silicon-curtain` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from game.config.lesson import lesson_names
from game.config.scenario import scenario_names

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DATA_FOLDERS = ("assets", "policies", "lessons", "experiments")
# What a user's folder must never receive from the build: the venv, caches, saves, sweeps.
NEVER_SHIPPED = (".venv/", ".git/", "saves/", "sweeps/", "out/", "build/", ".pytest_cache/")

# What the installed code says about itself: run inside the fresh venv, from another folder.
PROBE = """
import json, sys, sysconfig
import agents, game, main
from game.config import paths
from game.config.lesson import load_lesson
from game.config.yamlfile import shown_path
from game.ui import app, world_map

theme = app.load_theme()
fonts = sorted(
    value
    for block in theme.values() if isinstance(block, dict)
    for key, value in (block.get("font") or {}).items() if key.endswith("_path")
)
countries = world_map.load_map_data()["countries"]
print(json.dumps({
    "purelib": sysconfig.get_paths()["purelib"],
    "sys_path": sys.path,
    "modules": [game.__file__, agents.__file__, main.__file__],
    "data_root": str(paths.DATA_ROOT),
    "files": [str(world_map.MAP_PATH), str(world_map.FONT_PATH), str(app.THEME_FILE), *fonts],
    "countries": len(countries),
    "saves": str(paths.user_dir("saves")),
    "teacher_page": shown_path(load_lesson("compute_decides").teacher_page),
}))
"""


@dataclass
class Install:
    wheel: Path
    venv: Path
    work: Path  # the folder commands run from: neither the checkout nor the venv
    env: dict[str, str]

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    def run(self, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(a) for a in args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr[-3000:]}"
        return result

    def cli(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return self.run(self.bin / "silicon-curtain", *args)


def _check(cmd: list[str], **kwargs) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{cmd}: exit {result.returncode}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("install")
    # The environment of someone who never saw the checkout: nothing of it on the path, no
    # user site-packages, their own data folder (XDG, for platformdirs on Linux).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")
    }
    env.update(
        PYTHONNOUSERSITE="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        XDG_DATA_HOME=str(base / "user-data"),
    )
    dist = base / "dist"
    _check(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        env=env,
    )
    (wheel,) = dist.glob("silicon_curtain-*.whl")
    venv = base / "venv"
    # A real fresh venv (not --system-site-packages, not the project's .venv): the wheel's own
    # dependency list has to be enough. --no-compile: byte-compiling pandas & co. is half the
    # install time, and Python compiles what it imports anyway.
    _check([sys.executable, "-m", "venv", str(venv)], env=env)
    inst = Install(wheel, venv, base / "elsewhere", env)
    inst.work.mkdir()
    env["PATH"] = f"{inst.bin}{os.pathsep}{env.get('PATH', '')}"
    _check([str(inst.python), "-m", "pip", "install", "-q", "--no-compile", str(wheel)], env=env)
    # ~600 MB of dependencies, left to pytest, which keeps the last three runs' temporary folders
    # (removing them here took longer than some of the tests under load)
    return inst


def test_a_checkout_reads_its_own_data() -> None:
    """(Quick, beside the slow ones.) The editable install (and pytest's pythonpath) find the
    data in the checkout, so an edit to assets/ shows at once."""
    from game.config.paths import DATA_ROOT

    assert DATA_ROOT == ROOT


def _shipped_files(folder: str) -> set[str]:
    """The checkout's files in a data folder, but for what builds leave out (bytecode, saves)."""
    return {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix not in (".pyc", ".scgame", ".save")
    }


def test_the_wheel_holds_the_code_and_the_data_and_nothing_else(install: Install) -> None:
    names = zipfile.ZipFile(install.wheel).namelist()
    for required in (
        "main.py",
        "game/cli.py",
        "game/config/paths.py",
        "agents/__init__.py",
        "game/_data/assets/data/actors.yaml",
        "game/_data/assets/map/world.json",
        "game/_data/assets/ui/theme.json",
        "game/_data/assets/fonts/NotoSans-Regular.ttf",
        "game/_data/policies/levers.yaml",
        "game/_data/lessons/compute_decides.yaml",
        "game/_data/lessons/compute_decides.md",
        "game/_data/experiments/threshold_sweep.yaml",
    ):
        assert required in names
    for folder in DATA_FOLDERS:  # every data file, not only the ones named above
        missing = {f for f in _shipped_files(folder) if f"game/_data/{f}" not in names}
        assert missing == set(), f"not in the wheel: {sorted(missing)}"
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "silicon-curtain = game.cli:main" in zipfile.ZipFile(install.wheel).read(info).decode()
    stray = [
        n
        for n in names
        if not n.startswith(("game/", "agents/", "main.py", "silicon_curtain-"))
        or "__pycache__" in n
        or n.endswith(".pyc")
    ]
    assert stray == []  # no tests/, .venv/, saves/, sweeps/, docs/, caches


def test_the_sdist_holds_what_the_wheel_is_built_from_and_nothing_else(
    install: Install, tmp_path: Path
) -> None:
    # hatchling's own API (the build front end `build` is not a dependency), in the fresh venv
    install.run(install.python, "-m", "pip", "install", "-q", "hatchling")
    out = tmp_path / "sdist"
    probe = f"from hatchling.build import build_sdist; print(build_sdist({str(out)!r}))"
    result = subprocess.run(
        [str(install.python), "-c", probe],
        cwd=ROOT,
        env=install.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (sdist,) = out.glob("silicon_curtain-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    for required in ("pyproject.toml", "README.md", "main.py", "game/cli.py", "agents/__init__.py"):
        assert required in names
    for folder in DATA_FOLDERS:
        assert _shipped_files(folder) <= set(names)
    stray = [
        n
        for n in names
        if n.startswith(NEVER_SHIPPED) or "__pycache__" in n or n.endswith((".pyc", ".scgame"))
    ]
    assert stray == []


def test_run_and_report_from_another_folder(install: Install) -> None:
    out = install.cli("run", "--months", "3", "--out", "results.csv").stdout
    assert "Scenario: historical" in out
    assert "Seed 2022, 3 months from 2022-10 to 2022-12" in out
    assert "frontier" in out and "china" in out
    assert (install.work / "results.csv").stat().st_size > 0  # relative: the current folder
    # the report's page template travels in the package too (read with importlib.resources)
    install.cli("report", "results.csv", "--out", "report.html")
    assert "<html" in (install.work / "report.html").read_text(encoding="utf-8").lower()


def test_scenarios_and_lessons_come_from_the_installed_data(install: Install) -> None:
    listed = [line.split()[0] for line in install.cli("scenarios").stdout.splitlines() if line]
    assert listed == scenario_names()
    out = install.cli("lessons").stdout
    for name in lesson_names():
        assert f"{name}: " in out
        # in full, so that a teacher can open it: it is inside site-packages, not here
        line = next(x for x in out.splitlines() if f"lessons/{name}.md" in x)
        page = Path(line.split("teacher's page: ", 1)[1].strip())
        assert page.is_absolute() and page.is_file() and "site-packages" in page.parts


def test_the_data_fonts_theme_and_map_load_from_site_packages(install: Install) -> None:
    probe = json.loads(install.run(install.python, "-c", PROBE).stdout)
    site = Path(probe["purelib"]).resolve()
    assert site.is_relative_to(install.venv.resolve())

    def inside_site(path: str) -> bool:
        return Path(path).resolve().is_relative_to(site)

    assert all(inside_site(m) for m in probe["modules"]), probe["modules"]
    assert Path(probe["data_root"]) == site / "game" / "_data"
    assert len(probe["files"]) >= 6  # the map, the app's font, the theme and its four fonts
    for path in probe["files"]:
        assert inside_site(path) and Path(path).is_file(), path
    assert probe["countries"] > 0
    assert probe["teacher_page"] == "lessons/compute_decides.md"
    # saves go to the user's data folder (XDG_DATA_HOME on Linux; elsewhere platformdirs' own)
    saves = Path(probe["saves"])
    assert saves.parts[-2:] == ("silicon-curtain", "saves") and not inside_site(str(saves))
    if sys.platform.startswith("linux"):
        assert saves == Path(install.env["XDG_DATA_HOME"]) / "silicon-curtain" / "saves"
    # and the checkout is nowhere on the path
    checkout = ROOT.resolve()
    on_path = [p for p in probe["sys_path"] if p and Path(p).resolve().is_relative_to(checkout)]
    assert on_path == []


def test_the_game_window_draws_from_the_wheel_and_writes_nothing_into_it(
    install: Install,
) -> None:
    venv = install.venv
    (site,) = [*venv.glob("lib/python*/site-packages"), *venv.glob("Lib/site-packages")]

    def installed() -> set[Path]:  # the installed packages' files (Python adds its bytecode)
        return {
            p
            for package in ("game", "agents")
            for p in (site / package).rglob("*")
            if "__pycache__" not in p.parts
        }

    before = installed()
    install.cli("play", "--screenshot", "shot.png", "--autoplay", "2")
    assert (install.work / "shot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(installed() - before) == []
