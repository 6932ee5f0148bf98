"""The projector's window of a networked class (`python main.py host`): how to join (the
address, its QR code and the room code, big enough to read from the back of the room), who
has joined and submitted, and the facilitator's controls, acting through the same room
methods as the facilitator's page. The facilitator's link is never shown here: the projector
is the one screen every student sees.

The room changes in the server's thread; the scene reads its overview every REFRESH seconds
and draws the world under the room's lock, so a turn resolving meanwhile is never half-drawn.
"""

from __future__ import annotations

from typing import Any, Protocol

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UIDropDownMenu, UILabel, UITextBox
from pygame_gui.windows import UIConfirmationDialog

from game.config.texts import text as tr
from game.net.room import Room, RoomError
from game.ui.app import App, Scene, confirmation, font, scene
from game.ui.charts import bloc_chart, render


class Served(Protocol):
    """What the window needs of the server (game.net.server.HostServer), named here so the UI
    imports none of the web libraries the server runs on."""

    room: Room

    @property
    def join_url(self) -> str: ...

    def stop(self) -> None: ...

REFRESH = 0.5  # seconds between two readings of the room
MARGIN = 16
NEWS_LINES = 6


def qr_surface(data: str, size: int) -> pygame.Surface:
    """The QR code of `data`, as large as fits in `size` pixels with whole modules, dark on
    white with its quiet zone (phones read it from the back of a room)."""
    import segno

    qr = segno.make(data, error="m")
    rows = [list(r) for r in qr.matrix]
    quiet = 4
    n = len(rows) + 2 * quiet
    module = max(1, size // n)
    surf = pygame.Surface((n * module, n * module))
    surf.fill((255, 255, 255))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                rect = ((x + quiet) * module, (y + quiet) * module, module, module)
                surf.fill((0, 0, 0), rect)
    return surf


def projector_news(session: Any, n: int) -> list[str]:
    """The latest news as the whole class may see it: while decisions are hidden, every
    team's reads as a hidden decision (the projector is no team's screen)."""
    from game.play.objectives import ROLES

    humans = {ROLES[r].actor: ROLES[r].name for r in session.roles}
    out = []
    for item in session.view.news(n):
        actors = set(item.get("actors", [])) & set(humans)
        if session.hidden and item.get("kind") == "policy" and actors:
            who = humans[sorted(actors)[0]]
            hidden = tr("news_hidden_decision", who=who)
            out.append(f"{item['date']}  {hidden}")
        else:
            out.append(f"{item['date']}  {item['text']}")
    return out


def _fitted(line: str, width: int, size: int, bold: bool, colour: tuple[int, int, int]):
    """`line` in the largest font up to `size` points that fits `width` pixels."""
    while True:
        img = font(size, bold).render(line, True, colour)
        if img.get_width() <= width or size <= 12:
            return img
        size -= 2


@scene("host")
class HostScene(Scene):
    def __init__(self, app: App, server: Served) -> None:
        super().__init__(app)
        self.server = server
        self.room = server.room
        self.overview: dict[str, Any] = self.room.overview()
        self.since = 0.0
        self.chart: pygame.Surface | None = None
        self.chart_key: Any = None
        self.end_dialog: UIConfirmationDialog | None = None
        self.event_menu: UIDropDownMenu | None = None

    @property
    def holds_game(self) -> bool:
        return self.overview["status"] != "ended"

    # ------------------------------------------------------------------ layout
    def build(self) -> None:
        w, h = self.app.size
        self.left = pygame.Rect(MARGIN, MARGIN, min(int(w * 0.4), 600), h - 2 * MARGIN)
        right_x = self.left.right + MARGIN
        self.right = pygame.Rect(right_x, MARGIN, w - right_x - MARGIN, h - 2 * MARGIN)
        L, R = self.left, self.right
        self.keep(
            UILabel(
                pygame.Rect(L.x, L.y, L.w, 40), tr("host_join"), self.manager, object_id="@heading"
            )
        )
        # The address and the code are drawn in draw(), as large as the column allows: they
        # are read from the back of the room.
        self.url_rect = pygame.Rect(L.x, L.y + 44, L.w, 44)
        self.code_rect = pygame.Rect(L.x, L.bottom - 96, L.w, 96)
        qr_top = self.url_rect.bottom + 12
        self.qr_rect = pygame.Rect(L.x, qr_top, L.w, self.code_rect.top - qr_top - 12)
        self.qr = qr_surface(self.server.join_url, min(self.qr_rect.w, self.qr_rect.h))
        self.url_img = _fitted(self.server.join_url, L.w, 30, True, (110, 180, 255))
        self.code_img = _fitted(
            tr("host_code", code=" ".join(self.room.code)), L.w, 72, True, (240, 200, 110)
        )

        self.status = self.keep(
            UITextBox("", pygame.Rect(R.x, R.y, R.w, 64), self.manager, object_id="#host_status")
        )
        teams_h = min(26 * len(self.room.teams) + 20, int(R.h * 0.3))
        self.teams = self.keep(
            UITextBox(
                "", pygame.Rect(R.x, R.y + 70, R.w, teams_h), self.manager, object_id="#host_teams"
            )
        )
        y = self.teams.rect.bottom + 8
        names = ("start", "close_turn", "pause", "reveal", "end")
        per_row = 5 if R.w >= 5 * 170 else 3  # two rows on a narrow window: labels stay whole
        bw = (R.w - (per_row - 1) * 8) // per_row
        self.buttons: dict[str, UIButton] = {}
        for i, name in enumerate(names):
            row, col = divmod(i, per_row)
            rect = pygame.Rect(R.x + col * (bw + 8), y + row * 46, bw, 40)
            self.buttons[name] = self.keep(
                UIButton(rect, tr(f"host_button_{name}"), self.manager, object_id=f"#host_{name}")
            )
        y += 46 * -(-len(names) // per_row) + 2
        events = self.overview["events"]
        self.events = {e["name"]: e["id"] for e in events}
        if events:
            label_w = font(14).size(tr("host_inject_label"))[0] + 16
            self.keep(
                UILabel(pygame.Rect(R.x, y, label_w, 36), tr("host_inject_label"), self.manager)
            )
            names = list(self.events)
            self.event_menu = self.keep(
                UIDropDownMenu(
                    names,
                    names[0],
                    pygame.Rect(R.x + label_w, y, R.w - label_w - 128, 36),
                    self.manager,
                    object_id="#host_event",
                )
            )
            self.buttons["inject"] = self.keep(
                UIButton(
                    pygame.Rect(R.right - 120, y, 120, 36),
                    tr("host_button_inject"),
                    self.manager,
                    object_id="#host_inject",
                )
            )
            y += 44
        news_h = 25 * NEWS_LINES + 16  # a line of the theme's text box is 25 px
        self.news = self.keep(
            UITextBox(
                "",
                pygame.Rect(R.x, R.bottom - news_h, R.w, news_h),
                self.manager,
                object_id="#host_news",
            )
        )
        self.chart_rect = pygame.Rect(R.x, y, R.w, self.news.rect.top - y - 8)
        self.chart_fonts = (font(13), font(15, True))
        self.chart_key = None
        self._show(self.overview)

    # ------------------------------------------------------------------ the room's state
    def update(self, dt: float) -> None:
        self.since += dt
        if self.since < REFRESH:
            return
        self.since = 0.0
        overview = self.room.overview()
        if overview != self.overview:
            self._show(overview)

    def _show(self, o: dict[str, Any]) -> None:
        self.overview = o
        status = tr(f"host_status_{o['status']}")
        line = tr(
            "host_status",
            status=status,
            turn=o["turn"],
            turns=o["turns"],
            date=o["date"],
            left=o["months_left"],
        )
        if o.get("save_error"):
            line += "<br>" + tr("host_save_failed", error=o["save_error"])
        self.status.set_text(line)
        rows = []
        for t in o["teams"]:
            seats = len(t["seats"])
            online = sum(1 for s in t["seats"] if s["connected"])
            state = tr("host_submitted") if t["submitted"] else tr("host_waiting")
            if not seats:
                state = tr("host_no_seat")
            rows.append(
                tr("host_team_row", team=t["name"], seats=seats, online=online, state=state)
            )
        self.teams.set_text("<br>".join(rows))
        status = o["status"]
        self._enable("start", status == "lobby")
        self._enable("close_turn", status == "open")
        self._enable("pause", status in ("lobby", "open", "paused"))
        self.buttons["pause"].set_text(
            tr("host_button_resume") if status == "paused" else tr("host_button_pause")
        )
        self.buttons["reveal"].set_text(
            tr("host_button_hide") if not o["hidden"] else tr("host_button_reveal")
        )
        self._enable("end", status != "ended")
        if "inject" in self.buttons:
            self._enable("inject", status in ("lobby", "open", "paused") and o["months_left"] > 0)
        with self.room.lock:
            self.news.set_text("<br>".join(projector_news(self.room.session, NEWS_LINES)))
        self._render_chart()

    def _enable(self, name: str, on: bool) -> None:
        button = self.buttons[name]
        if on and not button.is_enabled:
            button.enable()
        elif not on and button.is_enabled:
            button.disable()

    # ------------------------------------------------------------------ controls
    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame_gui.UI_CONFIRMATION_DIALOG_CONFIRMED and (
            event.ui_element is self.end_dialog
        ):
            self._act(self.room.end)
            return True
        if event.type != pygame_gui.UI_BUTTON_PRESSED:
            return False
        b = self.buttons
        o = self.overview
        if event.ui_element is b["start"]:
            self._act(self.room.start)
        elif event.ui_element is b["close_turn"]:
            self._act(self.room.close_turn)
        elif event.ui_element is b["pause"]:
            self._act(self.room.resume if o["status"] == "paused" else self.room.pause)
        elif event.ui_element is b["reveal"]:
            self._act(lambda: self.room.reveal(not o["hidden"]))
        elif event.ui_element is b.get("inject") and self.event_menu is not None:
            chosen = self.events[
                self.event_menu.selected_option[0]
                if isinstance(self.event_menu.selected_option, tuple)
                else self.event_menu.selected_option
            ]
            self._act(lambda: self.room.inject(chosen))
        elif event.ui_element is b["end"]:
            self.end_dialog = self.keep(
                confirmation(
                    self.manager,
                    self.app.size,
                    tr("host_button_end"),
                    tr("host_end_confirm"),
                    tr("host_button_end"),
                    "#host_end_dialog",
                )
            )
        else:
            return False
        return True

    def _act(self, action: Any) -> None:
        try:
            action()
        except RoomError as exc:
            self.error(str(exc))
        self.since = REFRESH  # show the result at the next frame

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: pygame.Surface) -> None:
        surface.blit(self.url_img, self.url_img.get_rect(midleft=self.url_rect.midleft))
        surface.blit(self.qr, self.qr.get_rect(center=self.qr_rect.center))
        surface.blit(self.code_img, self.code_img.get_rect(midleft=self.code_rect.midleft))
        if self.chart is not None:
            surface.blit(self.chart, self.chart_rect.topleft)

    def _render_chart(self) -> None:
        """The capability chart, drawn again only when the world has moved on (a new month in
        the overview) or the window's size has changed: the frame only blits it, and never
        waits for the room's lock while a turn resolves."""
        key = (self.overview["date"], self.chart_rect.size)
        if key == self.chart_key:
            return
        self.chart_key = key
        if self.chart_rect.h < 80:
            self.chart = None
            return
        with self.room.lock:
            session = self.room.session
            chart = bloc_chart(
                tr("host_chart"),
                "frontier_capability",
                session.view,
                session.ghost_view,
                short_title=tr("host_chart_short"),
            )
            self.chart, _ = render(
                chart, self.chart_rect.size, self.chart_fonts, origin=self.chart_rect.topleft
            )
