"""Make the README's screenshots again, headless, from the game as it is now: one command,
so the pictures never fall behind the program.

    python tools/screenshots.py [DIR]      # default: docs/screenshots

Each picture is `python main.py play --screenshot ...` with the arguments below (a fresh
saves folder, so nothing of the user's is read or written).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# file -> arguments of `main.py play`
SHOTS: dict[str, list[str]] = {
    "title.png": ["--scene", "title", "--size", "1280x800"],
    "play.png": ["--role", "china", "--autoplay", "30", "--size", "1280x800"],
    "play-1920.png": ["--role", "us", "--autoplay", "30", "--size", "1920x1080"],
    "debrief.png": ["--role", "us", "--autoplay", "99", "--scene", "debrief", "--size", "1280x800"],
}


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    with tempfile.TemporaryDirectory() as saves:
        for name, args in SHOTS.items():
            cmd = [sys.executable, str(ROOT / "main.py"), "play", "--screenshot", str(out / name)]
            cmd += [*args, "--saves", saves]
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode:
                print(f"{name}: {done.stderr.strip()}", file=sys.stderr)
                return done.returncode
            print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
