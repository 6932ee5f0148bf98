"""Where the shipped data lives and where a user's files go.

The data folders (`assets/`, `policies/`, `lessons/`, `experiments/`) sit at the top of a
checkout and travel inside the wheel as `game/_data/`; `DATA_ROOT` is whichever of the two this
copy of the code was installed with, found through importlib.resources, so an installed game
runs from any folder. What users make (saves, reports) goes to the current folder or the
user's data folder, never into the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from platformdirs import user_data_path

APP_NAME = "silicon-curtain"


def _data_root() -> Path:
    # An installed wheel carries the data as game/_data/ (builds leave out any game/_data in a
    # checkout, so an editable install reads the checkout's). Resolved, like the paths that
    # shown_path compares with it (a symlinked /tmp or site-packages would not match otherwise).
    packaged = Path(str(resources.files("game") / "_data"))
    if packaged.is_dir():
        return packaged.resolve()
    return Path(__file__).resolve().parents[2]  # a checkout or an editable install


DATA_ROOT = _data_root()
ASSETS_DIR = DATA_ROOT / "assets"
DATA_DIR = ASSETS_DIR / "data"
POLICY_DIR = DATA_ROOT / "policies"
LESSON_DIR = DATA_ROOT / "lessons"
EXPERIMENT_DIR = DATA_ROOT / "experiments"
TRANSLATION_DIR = ASSETS_DIR / "translations"  # the player's text, one file per language


def user_dir(kind: str) -> Path:
    """The folder for the user's own files of one kind ('saves', 'reports'): in the user's
    data folder, so that an installed game never writes into its package."""
    return user_data_path(APP_NAME, appauthor=False) / kind
