"""The end: every team's score, the charts of what happened against the world without the
players' decisions, and the decisions that mattered most."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UILabel, UITextBox

from game.dates import month_of_year, year_of
from game.objectives import ROLES
from game.ui import palette
from game.ui import strings as S
from game.ui.app import App, Scene, font
from game.ui.charts import Chart, Series, render
from game.view import WorldView

if TYPE_CHECKING:
    from game.session import GameSession


class DebriefScene(Scene):
    def __init__(self, app: App, session: GameSession) -> None:
        super().__init__(app)
        self.session = session
        self.surfaces: list[tuple[pygame.Surface, pygame.Rect]] = []

    def build(self) -> None:
        w, h = self.app.size
        m = self.manager
        s = self.session
        self.keep(
            UILabel(
                pygame.Rect(20, 0, w - 40, 62),
                S.DEBRIEF_TITLE.format(scenario=s.model.scenario.name),
                m,
                object_id="@title",
            )
        )
        scores = "<br>".join(
            S.DEBRIEF_SCORE.format(role=ROLES[r].name, text=s.score(r).text) for r in s.roles
        )
        self.keep(UITextBox(scores, pygame.Rect(20, 64, w // 2 - 30, 88), m, object_id="#scores"))
        mattered = s.decisions_that_mattered(6)
        lines = [
            f"{d.date} {ROLES[d.role].name}: {d.change}"
            + (
                ", " + ", ".join(f"{b} {v:+.1f}" for b, v in sorted(d.effect.items()))
                if d.effect
                else ""
            )
            for d in mattered
        ]
        self.keep(
            UILabel(
                pygame.Rect(w // 2 + 10, 62, w // 2 - 30, 24),
                S.DEBRIEF_DECISIONS,
                m,
                object_id="@heading",
            )
        )
        self.keep(
            UITextBox(
                "<br>".join(lines) or S.DEBRIEF_NONE,
                pygame.Rect(w // 2 + 10, 88, w // 2 - 30, 64),
                m,
                object_id="#decisions",
            )
        )
        self.again = self.keep(
            UIButton(
                pygame.Rect(w // 2 - 170, h - 56, 160, 42), S.DEBRIEF_AGAIN, m, object_id="#again"
            )
        )
        self.quit = self.keep(
            UIButton(
                pygame.Rect(w // 2 + 10, h - 56, 160, 42), S.DEBRIEF_QUIT, m, object_id="#quit"
            )
        )
        self._charts(w, h)

    def _charts(self, w: int, h: int) -> None:
        view, ghost = self.session.view, WorldView(self.session.ghost)
        m = self.session.model
        args = {
            "months": m.horizon,
            "start_year": year_of(m.scenario.start),
            "start_month": month_of_year(m.scenario.start),
        }
        names = S.BLOC_SHORT
        cap = Chart(S.CHART_CAPABILITY, **args)
        a, b = view.series("frontier_capability"), ghost.series("frontier_capability")
        for bloc in view.bloc_ids:
            cap.series.append(Series(names[bloc], a[bloc], palette.BLOC[bloc], ghost=b[bloc]))
        compute = Chart(S.CHART_COMPUTE, log=True, **args)
        c, d = view.series("compute_h100e"), ghost.series("compute_h100e")
        for bloc in view.bloc_ids:
            compute.series.append(Series(names[bloc], c[bloc], palette.BLOC[bloc], ghost=d[bloc]))
        fonts = (font(12), font(13, bold=True))
        top, bottom = 160, h - 70
        left = pygame.Rect(20, top, (w - 50) * 3 // 5, bottom - top)
        right = pygame.Rect(left.right + 10, top, w - left.right - 30, bottom - top)
        self.surfaces = [
            (render(cap, left.size, fonts)[0], left),
            (render(compute, right.size, fonts)[0], right),
        ]

    def draw(self, surface: pygame.Surface) -> None:
        for img, rect in self.surfaces:
            surface.blit(img, rect)

    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.again:
                from game.ui.scenes.title import TitleScene

                self.app.replace(TitleScene(self.app))
            elif event.ui_element is self.quit:
                self.app.running = False
            return True
        return False
