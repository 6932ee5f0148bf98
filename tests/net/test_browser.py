"""The classroom pages in a real browser (game/net/static, docs/classroom-protocol.md): the
real host in this process (lesson role_play, five teams, a temporary room folder), five
students' browsers each with a seat of its own, and the facilitator's browser.

Each browser is its own headless Chromium with its own profile, so each keeps its own seat
token in localStorage, as five phones would. Needs the system's Chromium and chromedriver
(/usr/bin/chromium, /usr/bin/chromedriver; .ci/run installs them); skips, saying so, without.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        "the browser tests need the system's Chromium and chromedriver (/usr/bin/chromium, "
        "/usr/bin/chromedriver): apt-get install chromium chromium-driver",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

TEAMS = ["us", "vendor", "china", "lab", "transit"]
WAIT = 20.0  # seconds any one thing may take to show


def browser(width: int = 1000, height: int = 900) -> Any:
    """A headless Chromium with a fresh profile of its own (its own localStorage)."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--mute-audio",
        f"--window-size={width},{height}",
    ):
        opts.add_argument(arg)
    # Six drivers start side by side: each Service picks a free port before binding it, so two
    # can pick the same one and the loser exits at once (status 1). A new Service picks anew.
    for attempt in range(3):
        try:
            return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
        except WebDriverException:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def until(driver: Any, what: Callable[[Any], Any], message: str, timeout: float = WAIT) -> Any:
    """Wait for `what(driver)` to be truthy (a page element may be rebuilt meanwhile)."""

    def check(d: Any) -> Any:
        try:
            return what(d)
        except StaleElementReferenceException:
            return False

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(check, message)


def click(driver: Any, element: Any) -> None:
    """Click as a person would: first scroll the element to the middle of the screen (the
    page's submit bar sticks to the bottom edge, where Selenium would otherwise scroll it)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def text_of(driver: Any, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def js_errors(driver: Any) -> list[str]:
    """The page's script errors (the browser's console at level SEVERE, favicon aside)."""
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "favicon" not in e["message"]
    ]


# ----------------------------------------------------------------------------- the host
@dataclass
class Host:
    url: str  # http://127.0.0.1:PORT
    code: str
    key: str
    room: Any  # game.net.room.Room


def start_host(room_dir: Path) -> Any:
    """The real host of lesson role_play (five teams) on a free port, saving to room_dir."""
    from game.config.lesson import load_lesson
    from game.net.room import Room
    from game.net.server import HostServer
    from game.net.store import RoomStore
    from game.play.session import GameSession

    store = RoomStore(room_dir)
    room = Room(GameSession.from_lesson(load_lesson("role_play")), persist=store.save)
    server = HostServer(room, port=0, report_path=store.report_path)
    server.start()
    return server


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    server = start_host(tmp_path / "room")
    try:
        yield Host(server.base_url, server.room.code, server.room.key, server.room)
    finally:
        server.stop()


# ----------------------------------------------------------------------------- page helpers
class Student:
    """One student's browser, seated in one team."""

    def __init__(self, driver: Any, team: str) -> None:
        self.d = driver
        self.team = team

    def join(self, host: Host) -> None:
        d = self.d
        d.get(f"{host.url}/?room={host.code}")
        radio = until(
            d,
            lambda d: d.find_element(By.CSS_SELECTOR, f'input[name="team"][value="{self.team}"]'),
            f"{self.team}: the team list never showed",
        )
        d.find_element(By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]').click()
        d.find_element(By.ID, "join-go").click()
        until(d, lambda d: d.find_element(By.ID, "team").is_displayed(), "never seated")
        until(d, lambda d: text_of(d, "team-name") not in ("", "Rejoining your team…"), "no team")

    def status(self) -> str:
        return self.d.find_element(By.CSS_SELECTOR, "#status-line .pill").get_attribute("class")

    def turn(self) -> int:
        line = text_of(self.d, "status-line")
        return int(line.split()[1]) if line.startswith("Turn ") else 0

    def wait_open(self, turn: int) -> None:
        until(
            self.d,
            lambda d: self.turn() == turn
            and "st-open" in self.status()
            and d.find_element(By.ID, "submit").is_enabled(),
            f"{self.team}: turn {turn} never opened",
        )

    def lever(self, lever: str, css: str) -> Any:
        return self.d.find_element(By.CSS_SELECTOR, f'fieldset[data-lever="{lever}"] {css}')

    def type_number(self, lever: str, value: str, row: int = 0) -> None:
        box = self.d.find_elements(
            By.CSS_SELECTOR, f'fieldset[data-lever="{lever}"] input[type="number"]'
        )[row]
        click(self.d, box)
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)

    def submit(self, turn: int) -> None:
        click(self.d, self.d.find_element(By.ID, "submit"))
        until(
            self.d,
            lambda d: self.turn() > turn
            or text_of(d, "submit-state").startswith("Submitted")
            or "st-ended" in self.status(),
            f"{self.team}: turn {turn} was not acknowledged",
        )


class Facilitator:
    def __init__(self, driver: Any, host: Host) -> None:
        self.d = driver
        driver.get(f"{host.url}/facilitator#key={host.key}")
        until(driver, lambda d: text_of(d, "code") == host.code, "the overview never came")

    def click(self, button: str) -> None:
        until(self.d, lambda d: d.find_element(By.ID, button).is_enabled(), f"{button} stays off")
        self.d.find_element(By.ID, button).click()


@pytest.fixture(scope="module")
def chromiums() -> Iterator[list[Any]]:
    """Six browsers (five students, the facilitator), started side by side, for the module."""
    with ThreadPoolExecutor(6) as pool:
        drivers = list(pool.map(lambda _: browser(), range(6)))
    try:
        yield drivers
    finally:
        for d in drivers:
            d.quit()


@pytest.fixture
def browsers(chromiums: list[Any]) -> list[Any]:
    """The six browsers on a blank page with an empty console: a page left open by an earlier
    test would go on calling its stopped host."""
    for d in chromiums:
        d.get("about:blank")
        d.get_log("browser")
    return chromiums


# ----------------------------------------------------------------------------- the class
def test_a_whole_class_plays_the_lesson_in_browsers(host: Host, browsers: list[Any]) -> None:
    started = time.monotonic()
    fac = Facilitator(browsers[5], host)
    students = [Student(d, team) for d, team in zip(browsers, TEAMS, strict=False)]
    for s in students:
        s.join(host)
    # Every team is seated once, and nobody sees another team's orders: only flags.
    until(fac.d, lambda d: d.find_element(By.ID, "b-start").is_enabled(), "no start")
    assert {seat.team for seat in host.room.seats.values()} == set(TEAMS)
    assert "lobby" in students[0].status()

    fac.click("b-start")
    turns = host.room.turns
    assert turns == 12  # 48 months, four a turn
    us, vendor, china, lab, transit = students
    for turn in range(1, turns + 1):
        for s in students:
            s.wait_open(turn)
        if turn == 1:
            # The US types a control threshold; the draft reaches its page's "changing" note.
            us.type_number("control_tpp", "4000")
            until(us.d, lambda d: "changing" in us.lever("control_tpp", ".now").text, "no draft")
            # China's subsidy, DeepSeek's risk appetite and the hubs' customs in one country
            # typed in their number boxes; NVIDIA ticks its cut-down variants off.
            china.type_number("domestic_subsidy", "0.77")
            lab.type_number("risk_appetite", "0.33")
            transit.type_number("transit_customs", "2", row=0)
            click(vendor.d, vendor.lever("make_compliant_variants", 'input[type="checkbox"]'))
            for s in (china, lab, transit, vendor):
                until(s.d, lambda d: d.find_elements(By.CSS_SELECTOR, ".lever-row.changed"), s.team)
        if turn == 2:
            # A submission, then an edit: the page says to submit again, and the second
            # submission replaces the first.
            us.submit(turn)
            assert "Waiting for" in text_of(us.d, "submit-state")
            assert "teams" in text_of(us.d, "submit-state")
            Select(us.lever("export_rule", "select")).select_by_index(2)
            until(us.d, lambda d: "submit again" in text_of(d, "submit-state"), "no resubmit")
        if turn == 3:
            # Paused: every student's page locks, with a banner; resumed: it opens again.
            fac.click("b-pause")
            for s in students:
                until(
                    s.d,
                    lambda d: "Paused" in text_of(d, "banner")
                    and not d.find_element(By.ID, "submit").is_enabled()
                    and not d.find_element(By.CSS_SELECTOR, "#levers select, #levers input")
                    .is_enabled(),
                    f"{s.team}: the page did not lock",
                )
            fac.click("b-pause")  # now "Resume"
            for s in students:
                s.wait_open(turn)
        if turn == 4:
            # An injected event, then the turn closed by the facilitator with two teams'
            # orders missing: the event is in the news of every page.
            Select(fac.d.find_element(By.ID, "event")).select_by_value("customs_crackdown")
            fac.click("b-inject")
            for s in students:
                until(
                    s.d,
                    lambda d: "tighten checks on re-exported" in text_of(d, "news"),
                    f"{s.team}: the injected event is not in the news",
                )
            us.submit(turn)
            china.submit(turn)
            fac.click("b-close")
            for s in students:
                s.wait_open(turn + 1)
            continue
        for s in students:
            s.submit(turn)
    # The end: every page has the debrief link, and the report loads.
    links = []
    for s in students:
        until(s.d, lambda d: d.find_element(By.ID, "report-link").is_displayed(), "no report link")
        links.append(s.d.find_element(By.ID, "report-link").get_attribute("href"))
    assert len(set(links)) == 5
    click(us.d, us.d.find_element(By.ID, "report-link"))
    until(us.d, lambda d: "/report" in d.current_url, "the link went nowhere")
    until(us.d, lambda d: len(d.find_element(By.TAG_NAME, "body").text) > 200, "empty report")
    for s in students:
        assert js_errors(s.d) == [], s.team
    assert js_errors(fac.d) == []
    assert time.monotonic() - started < 150



# ----------------------------------------------------------------------------- a reload
def test_a_student_who_reloads_gets_the_team_and_the_unsent_draft_back(
    host: Host, browsers: list[Any]
) -> None:
    me, mate = Student(browsers[0], "china"), Student(browsers[1], "china")
    me.join(host)
    mate.join(host)
    host.room.start()
    me.wait_open(1)
    box = 'fieldset[data-lever="domestic_subsidy"] input[type="number"]'

    def subsidy(s: Student) -> str:
        return s.d.find_element(By.CSS_SELECTOR, box).get_attribute("value")

    # A draft reaches the teammate's page (the host has it), then the page reloads.
    me.type_number("domestic_subsidy", "0.66")
    until(mate.d, lambda d: subsidy(mate) == "0.66", "the teammate never saw the draft")
    me.d.refresh()
    me.wait_open(1)
    until(me.d, lambda d: subsidy(me) == "0.66", "the draft was not restored after a reload")
    assert text_of(me.d, "team-name") == text_of(mate.d, "team-name")
    assert len(host.room.seats) == 2  # the same seat back, not a new one
    # A change the host never got (reloaded before the draft was sent) comes back from the
    # browser's own storage, and then reaches the teammate.
    me.type_number("domestic_subsidy", "0.55")
    me.d.refresh()
    me.wait_open(1)
    until(me.d, lambda d: subsidy(me) == "0.55", "the unsent draft was lost in the reload")
    until(mate.d, lambda d: subsidy(mate) == "0.55", "the restored draft never reached the team")
    assert len(host.room.seats) == 2
    # On a 360 px phone nothing runs off the side of the page.
    me.d.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 780, "deviceScaleFactor": 2, "mobile": True},
    )
    try:
        until(
            me.d,
            lambda d: d.execute_script("return document.documentElement.scrollWidth") <= 360,
            "the page is wider than a 360 px phone",
            timeout=5,
        )
    finally:
        me.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert js_errors(me.d) == [] and js_errors(mate.d) == []


# ----------------------------------------------------------------------------- dropped orders
def test_a_team_whose_orders_could_not_apply_reads_why(
    host: Host, browsers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders accepted when sent that the world no longer allows when the turn resolves (an
    event came in between) are dropped: the team's page says so in the next turn."""
    from game.config.errors import CommandError, Problem

    china, us = Student(browsers[0], "china"), Student(browsers[1], "us")
    china.join(host)
    us.join(host)
    host.room.start()
    china.wait_open(1)
    assert not china.d.find_element(By.ID, "notice").is_displayed()
    china.type_number("domestic_subsidy", "0.5")
    china.submit(1)
    real = host.room.session.check_orders

    def world_changed(team: str, orders: Any) -> Any:
        if team == "china" and orders:
            raise CommandError(Problem("the subsidy is frozen by the event", key="lever"))
        return real(team, orders)

    monkeypatch.setattr(host.room.session, "check_orders", world_changed)
    us.wait_open(1)
    us.submit(1)
    china.wait_open(2)
    notice = until(
        china.d,
        lambda d: d.find_element(By.ID, "notice").is_displayed()
        and d.find_element(By.ID, "notice").text,
        "china was never told its orders were dropped",
    )
    assert "turn 1" in notice and "the subsidy is frozen by the event" in notice
    assert not us.d.find_element(By.ID, "notice").is_displayed()
    assert js_errors(china.d) == [] and js_errors(us.d) == []
