"""The end: every team's score, the charts of what happened against the world without the
players' decisions, and the decisions that mattered most. The debrief report (HTML, for the
class and for printing) is written in the background into saves/reports as the screen opens."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UILabel, UITextBox, UIWindow

from game.config.texts import text as tr
from game.config.yamlfile import shown_path
from game.play.objectives import ROLES
from game.reports import format as F
from game.ui.app import App, Scene, font, scene
from game.ui.charts import bloc_chart, render
from game.ui.text import first_fitting

if TYPE_CHECKING:
    from game.play.session import GameSession
    from game.reports.debrief.background import BackgroundReport


@scene("debrief")
class DebriefScene(Scene):
    def __init__(self, app: App, session: GameSession) -> None:
        super().__init__(app)
        self.session = session
        self.surfaces: list[tuple[pygame.Surface, pygame.Rect]] = []
        self.report_path: Path | None = None
        self.report_error: str | None = None
        # the report, then the same report with the futures band written over it
        self.writer: BackgroundReport | None = None
        self.band_pending = False
        self.band_ready = False
        self.report_label: UILabel | None = None
        self.open_button: UIButton | None = None
        self.questions_button: UIButton | None = None
        if app.auto_report:
            self._start_report()

    def _start_report(self) -> None:
        """Save the game beside its report, then write the report from that file in another
        process. Why not a thread: the report is numpy and matplotlib work, and beside a frame
        loop that never sleeps a thread waits for the GIL at every release (a 0.4 s report
        took over a minute). The save is kept: a teacher can remake the report or reopen the
        game from it."""
        # imported here, not at the top: matplotlib would add half a second to the game's start
        from game.reports.debrief.background import write_in_background

        s = self.session
        name = (s.lesson or {}).get("name") or s.scenario.name
        folder = self.app.saves_dir / "reports"
        stem = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            save = folder / f"{stem}.scgame"
            s.save(save)
        except Exception as exc:  # a full disk or a read-only folder: said on screen
            self.report_error = f"{type(exc).__name__}: {exc}"
            return
        # The band over sampled futures takes a run per future and world: the report without
        # it comes first, and the one with it replaces it, whole, when it is done.
        futures = self.app.report_futures
        self.writer = write_in_background(save, folder / f"{stem}.html", futures)
        self.band_pending = futures > 0
        self.app.on_quit.append(self.writer.stop)

    def build(self) -> None:
        w, h = self.app.size
        m = self.manager
        s = self.session
        self.keep(
            UILabel(
                pygame.Rect(20, 0, w - 40, 62),
                tr("debrief_title", scenario=(s.lesson or {}).get("title") or s.view.scenario_name),
                m,
                object_id="@title",
            )
        )
        scores = "<br>".join(
            tr(
                "debrief_score",
                role=ROLES[r].name,
                verdict=tr("debrief_met") if s.score(r).met else tr("debrief_missed"),
                text=s.score(r).text,
            )
            for r in s.roles
        )
        # as tall as every team's score needs (pygame_gui lays it out: height -1), up to a third
        # of the window; the decisions beside it as tall
        box = self.keep(
            UITextBox(scores, pygame.Rect(20, 64, w // 2 - 30, -1), m, object_id="#scores")
        )
        box_h = min(max(88, box.rect.height), h // 3)
        if box_h != box.rect.height:
            box.set_dimensions((w // 2 - 30, box_h))
        self.top = 64 + box_h + 8
        mattered = s.decisions_that_mattered(6) or s.decisions[-6:]  # effects need projections
        lines = [
            f"{d.date} {ROLES[d.role].name}: {s.view.describe(d.change)}"
            + (
                ", " + ", ".join(f"{b} {F.signed(v)}" for b, v in sorted(d.effect.items()))
                if d.effect
                else ""
            )
            for d in mattered
        ]
        self.keep(
            UILabel(
                pygame.Rect(w // 2 + 10, 62, w // 2 - 30, 24),
                tr("debrief_decisions"),
                m,
                object_id="@heading",
            )
        )
        self.keep(
            UITextBox(
                "<br>".join(lines) or tr("debrief_none"),
                pygame.Rect(w // 2 + 10, 88, w // 2 - 30, box_h - 24),
                m,
                object_id="#decisions",
            )
        )
        self.again = self.keep(
            UIButton(
                pygame.Rect(w // 2 - 170, h - 56, 160, 42),
                tr("debrief_again"),
                m,
                object_id="#again",
            )
        )
        self.quit = self.keep(
            UIButton(
                pygame.Rect(w // 2 + 10, h - 56, 160, 42), tr("debrief_quit"), m, object_id="#quit"
            )
        )
        self.report_label = self.keep(
            UILabel(pygame.Rect(20, h - 56, w // 2 - 200, 20), "", m, object_id="#report_status")
        )
        self.open_button = self.keep(
            UIButton(
                pygame.Rect(20, h - 34, 160, 28), tr("debrief_open"), m, object_id="#open_report"
            )
        )
        self.questions_button = None
        if (s.lesson or {}).get("questions"):
            self.questions_button = self.keep(
                UIButton(
                    pygame.Rect(w - 180, h - 56, 160, 42),
                    tr("debrief_questions"),
                    m,
                    object_id="#questions",
                )
            )
        self._show_report_state()
        self._charts(w, h)

    def _charts(self, w: int, h: int) -> None:
        view, ghost = self.session.view, self.session.ghost_view
        cap = bloc_chart(tr("chart_capability"), "frontier_capability", view, ghost)
        compute = bloc_chart(tr("chart_compute"), "compute_h100e", view, ghost, log=True)
        fonts = (font(12), font(13, bold=True))
        top, bottom = self.top, h - 70
        left = pygame.Rect(20, top, (w - 50) * 3 // 5, bottom - top)
        right = pygame.Rect(left.right + 10, top, w - left.right - 30, bottom - top)
        self.surfaces = [
            (render(cap, left.size, fonts, origin=left.topleft)[0], left),
            (render(compute, right.size, fonts, origin=right.topleft)[0], right),
        ]

    def draw(self, surface: pygame.Surface) -> None:
        for img, rect in self.surfaces:
            surface.blit(img, rect)

    def _show_report_state(self) -> None:
        if self.report_label is None or self.open_button is None:
            return
        if self.report_path is not None:
            path = shown_path(self.report_path)
            if self.band_pending:
                text = tr("debrief_report_band_coming", path=path, n=self.app.report_futures)
            elif self.band_ready:
                text = tr("debrief_report_band", path=path, n=self.app.report_futures)
            else:
                text = tr("debrief_report", path=path)
            # the whole line, or the path alone, or the file's name ("Open the report" is
            # beside it; the whole line is in the tooltip)
            forms = [
                text,
                tr("debrief_report", path=path),
                tr("debrief_report", path=self.report_path.name),
            ]
            room = self.report_label.rect.width - 8
            shown = first_fitting(self.report_label.font, forms, room)
            self.report_label.set_text(shown)
            self.report_label.set_tooltip(text if shown != text else None)
            self.open_button.enable()
            return
        self.open_button.disable()
        if self.report_error is not None:
            self.report_label.set_text(tr("debrief_report_failed", error=self.report_error))
        elif self.writer is not None:
            self.report_label.set_text(tr("debrief_report_writing"))

    def update(self, dt: float) -> None:
        if self.writer is None:
            return
        alive = self.writer.running  # before reading: a process that ended has said all
        for stage, status, said in self.writer.poll():
            if stage == "report" and status == "ok":
                self.report_path = Path(said)
            elif stage == "report":  # shown on screen; the debrief itself goes on
                self.report_error = said
                self.band_pending = False
            else:  # the band: without it, the report written first stands
                self.band_pending = False
                self.band_ready = status == "ok"
            self._show_report_state()
        if not alive and self.report_path is None and self.report_error is None:
            self.report_error = tr("debrief_report_no_output")
            self.band_pending = False
            self._show_report_state()

    def open_report(self) -> None:
        import webbrowser

        if self.report_path is None:
            return
        try:
            opened = webbrowser.open(self.report_path.resolve().as_uri())
        except Exception:  # a broken browser setting: say where the report is, as below
            opened = False
        if not opened:  # no browser on this machine: the teacher can still find the file
            self.error(tr("debrief_no_browser", path=str(self.report_path.resolve())))

    def open_questions(self) -> None:
        w, h = self.app.size
        questions = (self.session.lesson or {}).get("questions", [])
        body = "<br>".join(f"<b>{i}.</b> {q}" for i, q in enumerate(questions, start=1))
        window = UIWindow(
            pygame.Rect(w // 2 - 300, 120, 600, min(420, h - 200)),
            self.manager,
            window_display_title=tr("debrief_questions"),
            object_id="#questions_window",
        )
        UITextBox(
            body, pygame.Rect(0, 0, 568, min(420, h - 200) - 60), self.manager, container=window
        )
        self.keep(window)

    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.open_button:
                self.open_report()
            elif event.ui_element is self.questions_button:
                self.open_questions()
            elif event.ui_element is self.again:
                self.app.replace(self.app.make("title"))
            elif event.ui_element is self.quit:
                self.app.running = False
            return True
        return False

