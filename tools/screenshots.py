"""Make the README's screenshots again, headless, from the game as it is now: one command,
so the pictures never fall behind the program.

    python tools/screenshots.py [DIR]          # default: docs/screenshots (and docs/img)
    python tools/screenshots.py --classroom    # only the classroom's pages, in docs/img

Each game picture is `python main.py play --screenshot ...` with the arguments below (a fresh
saves folder, so nothing of the user's is read or written). The classroom's pictures
(docs/img/student-phone.png, docs/img/facilitator.png) are the browser pages of a live host
(lesson role_play, in a temporary room folder) with a game in progress, taken by the system's
headless Chromium through Selenium; without Chromium they are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# file -> arguments of `main.py play`
SHOTS: dict[str, list[str]] = {
    "title.png": ["--scene", "title", "--size", "1280x800"],
    "play.png": ["--role", "china", "--autoplay", "30", "--size", "1280x800"],
    "play-1920.png": ["--role", "us", "--autoplay", "30", "--size", "1920x1080"],
    "debrief.png": ["--role", "us", "--autoplay", "99", "--scene", "debrief", "--size", "1280x800"],
}


# The classroom's pages: file -> (page, width, height); page "student" is China's team page on
# a phone, "facilitator" the teacher's page on a laptop.
CLASSROOM_DIR = ROOT / "docs" / "img"
CLASSROOM: dict[str, tuple[str, int, int]] = {
    "student-phone.png": ("student", 390, 844),
    "facilitator.png": ("facilitator", 1280, 800),
}
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _classroom_in_progress(room_dir: Path) -> Any:
    """A live host of lesson role_play, four turns in: every team seated once, three turns
    played with a few orders, the fourth open with two teams submitted and China's team
    drafting a subsidy."""
    sys.path.insert(0, str(ROOT))
    from game.config.lesson import load_lesson
    from game.net.room import Room
    from game.net.server import HostServer
    from game.net.store import RoomStore
    from game.play.session import GameSession

    store = RoomStore(room_dir)
    room = Room(GameSession.from_lesson(load_lesson("role_play")), persist=store.save)
    seats = {team: room.join(room.code, team) for team in room.teams}
    room.start()
    plays: dict[int, dict[str, list[dict[str, Any]]]] = {
        1: {"us": [{"lever": "enforcement", "target": None, "value": 2.0}]},
        2: {"transit": [{"lever": "transit_customs", "target": "singapore", "value": 2.0}]},
        3: {"china": [{"lever": "mineral_controls", "target": None, "value": 0.5}]},
    }
    for turn in (1, 2, 3):
        for team, seat in seats.items():
            room.submit(seat.token, turn, plays[turn].get(team, []), f"shot-{turn}-{team}")
    room.submit(seats["us"].token, 4, [], "shot-4-us")
    room.submit(seats["vendor"].token, 4, [], "shot-4-vendor")
    draft = [{"lever": "domestic_subsidy", "target": None, "value": 0.8}]
    room.draft(seats["china"].token, 4, draft)
    server = HostServer(room, port=0, report_path=store.report_path)
    server.start()
    return server, seats["china"].token


def classroom(out: Path) -> int:
    """The classroom's two pages from a live host; 0 when made, 1 when they could not be."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        print("classroom screenshots skipped: no /usr/bin/chromium or /usr/bin/chromedriver")
        return 1
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out.mkdir(parents=True, exist_ok=True)
    drivers: list[Any] = []  # all kept open to the end: the student's seat shows as here
    with tempfile.TemporaryDirectory() as room_dir:
        server, token = _classroom_in_progress(Path(room_dir))
        try:
            for name, (page, width, height) in CLASSROOM.items():
                opts = webdriver.ChromeOptions()
                opts.binary_location = str(CHROMIUM)
                for arg in (
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--window-size={width},{height}",
                ):
                    opts.add_argument(arg)
                driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
                drivers.append(driver)
                # The exact size, below the smallest window headless Chromium opens.
                driver.execute_cdp_cmd(
                    "Emulation.setDeviceMetricsOverride",
                    {
                        "width": width,
                        "height": height,
                        "deviceScaleFactor": 1,
                        "mobile": page == "student",
                    },
                )
                wait = WebDriverWait(driver, 20)
                if page == "student":
                    driver.get(server.base_url + "/static/style.css")  # the origin, to seat
                    seat = {"room": server.room.code, "token": token}
                    driver.execute_script(
                        "localStorage.setItem('sc.seat', arguments[0])", json.dumps(seat)
                    )
                    driver.get(server.join_url)
                    wait.until(lambda d: d.find_element(By.ID, "charts").text)
                else:
                    driver.get(server.facilitator_url)
                    wait.until(lambda d: d.find_element(By.ID, "code").text)
                time.sleep(0.5)  # fonts and the last state
                driver.save_screenshot(str(out / name))
                print(out / name)
        finally:
            for driver in drivers:
                driver.quit()
            server.stop()
    return 0


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
    classroom(CLASSROOM_DIR)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and (
        args[0] in ("-h", "--help")
        or len(args) > 1
        or (args[0].startswith("-") and args[0] != "--classroom")
    ):
        print(__doc__.split("\n\n", 2)[1])
        sys.exit(0 if args[0] in ("-h", "--help") else 2)
    if args == ["--classroom"]:
        sys.exit(classroom(CLASSROOM_DIR))
    sys.exit(main(Path(args[0]) if args else ROOT / "docs" / "screenshots"))
