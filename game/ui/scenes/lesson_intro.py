"""A lesson's first screen, over the paused game: what the class is about, the teams in the
order they play, how long a turn lasts, and who starts. A teacher reads it out; a click starts
the first team's turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UILabel, UIPanel, UITextBox

from game.config.dates import format_month
from game.config.texts import text as tr
from game.play.objectives import ROLES
from game.ui.app import App, Scene, scene

if TYPE_CHECKING:
    from game.play.session import GameSession


@scene("lesson_intro")
class LessonIntroScene(Scene):
    def __init__(self, app: App, session: GameSession) -> None:
        super().__init__(app)
        self.session = session

    def build(self) -> None:
        w, h = self.app.size
        s = self.session
        lesson = s.lesson or {}
        pw, ph = min(720, w - 80), min(420, h - 80)
        rect = pygame.Rect((w - pw) // 2, (h - ph) // 2, pw, ph)
        panel = self.keep(
            UIPanel(rect, starting_height=5, manager=self.manager, object_id="#lesson_intro")
        )
        UILabel(
            pygame.Rect(12, 10, pw - 24, 36),
            lesson.get("title", s.scenario.name),
            self.manager,
            container=panel,
            object_id="@heading",
        )
        teams = "<br>".join(
            tr("lesson_team", n=i + 1, role=ROLES[r].name, objective=s.role_of(r).objective)
            for i, r in enumerate(s.roles)
        )
        body = tr(
            "lesson_body",
            summary=lesson.get("summary", s.scenario.description),
            months=s.view.horizon,
            start=format_month(s.view.start),
            turn=s.turn_months,
            teams=teams,
            hidden=tr("lesson_hidden") if s.hidden else "",
            first=ROLES[s.current_role].name,
        )
        UITextBox(
            body,
            pygame.Rect(12, 52, pw - 24, ph - 120),
            self.manager,
            container=panel,
            object_id="#lesson_body",
        )
        self.button = UIButton(
            pygame.Rect(pw // 2 - 80, ph - 58, 160, 42),
            tr("lesson_start"),
            self.manager,
            container=panel,
            object_id="#lesson_start",
        )

    def draw(self, surface: pygame.Surface) -> None:
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 160))
        surface.blit(shade, (0, 0))

    def process_event(self, event: pygame.event.Event) -> bool:
        pressed = event.type == pygame_gui.UI_BUTTON_PRESSED and event.ui_element is self.button
        keyed = event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN  # not Space: it
        # means "play" in the game, and a team pressing it early would skip the introduction
        if pressed or keyed:
            self.app.pop()
            return True
        return event.type in (pygame.KEYDOWN, pygame.MOUSEBUTTONDOWN)  # the game waits
