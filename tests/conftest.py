"""Every test runs without a screen: SDL's dummy video and audio drivers, set before pygame
is imported anywhere (subprocesses inherit them, so `python main.py` falls back to run)."""

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "slow: builds or installs something (tests/test_install.py); runs by default"
    )
