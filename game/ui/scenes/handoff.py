"""Hot seat: at the end of each quarter the game stops and hands the controls to the next team."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UILabel, UIPanel, UITextBox

from game.config.texts import text as tr
from game.ui.app import App, Scene, scene

if TYPE_CHECKING:
    from game.play.session import GameSession


@scene("handoff")
class HandoffScene(Scene):
    def __init__(self, app: App, session: GameSession) -> None:
        super().__init__(app)
        self.session = session
        self.next_role = session.next_player()

    def build(self) -> None:
        w, h = self.app.size
        rect = pygame.Rect(w // 2 - 260, h // 2 - 130, 520, 260)
        panel = self.keep(
            UIPanel(rect, starting_height=5, manager=self.manager, object_id="#handoff")
        )
        role = self.session.role_of(self.next_role)
        UILabel(
            pygame.Rect(10, 10, 490, 34),
            tr("handoff_title"),
            self.manager,
            container=panel,
            object_id="@heading",
        )
        UITextBox(
            tr("handoff_body", role=role.name, objective=role.objective),
            pygame.Rect(10, 50, 490, 130),
            self.manager,
            container=panel,
        )
        self.button = UIButton(
            pygame.Rect(190, 195, 130, 40),
            tr("handoff_continue"),
            self.manager,
            container=panel,
            object_id="@primary",
        )

    def draw(self, surface: pygame.Surface) -> None:
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 150))
        surface.blit(shade, (0, 0))

    def process_event(self, event: pygame.event.Event) -> bool:
        pressed = event.type == pygame_gui.UI_BUTTON_PRESSED and event.ui_element is self.button
        keyed = event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_SPACE)
        if pressed or keyed:
            self.app.pop()
            return True
        return False
