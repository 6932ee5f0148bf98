"""A role's briefing, over the paused game before its first month: the situation, what is in
force, the goal, each lever in a player's words with the real rule it stands for, and what to
watch. A player who has never heard of TPP reads this first; the lever tooltips say the same
things later, one lever at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UICheckBox, UILabel, UIPanel, UITextBox

from game.config.texts import text as tr
from game.ui.app import App, Scene, scene

if TYPE_CHECKING:
    from game.config.levers import LeverSpec
    from game.play.session import GameSession


def in_force(session: GameSession) -> list[str]:
    """The seated role's levers that are not at their default, as 'name: value' lines (a
    per-country or per-chip lever gives a line per target set)."""
    lines = []
    for lever in session.levers():
        if lever.target == "none" or lever.target == "vendor" or lever.target == "lab":
            value = session.lever_value(lever.id)
            if value != lever.default:
                lines.append(f"{lever.name}: {_shown(value, lever)}")
            continue
        for target, label in session.lever_rows(lever.id):
            value = session.lever_value(lever.id, target)
            default = lever.default
            if isinstance(default, dict):
                default = default.get(target)
            if value != default:
                lines.append(f"{lever.name}, {label}: {_shown(value, lever)}")
    return lines


def _shown(value: Any, lever: LeverSpec) -> str:
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if lever.kind == "number" and lever.unit in ("share", "fraction"):
        return f"{float(value):.0%}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def briefing_text(session: GameSession) -> str:
    """The briefing's body (pygame_gui's HTML subset)."""
    role = session.role
    force = in_force(session)
    levers = "<br>".join(
        tr("briefing_lever", name=lv.name, says=lv.says, mirrors=lv.mirrors)
        for lv in session.levers()
    )
    proposals = tr("briefing_proposals") if session.proposals else ""
    return tr(
        "briefing_body",
        situation=role.situation,
        in_force="<br>".join(force) if force else tr("briefing_nothing_in_force"),
        proposals=proposals,
        objective=role.objective,
        levers=levers or tr("levers_none"),
        watch=role.watch,
    )


@scene("briefing")
class BriefingScene(Scene):
    def __init__(self, app: App, session: GameSession) -> None:
        super().__init__(app)
        self.session = session

    def build(self) -> None:
        w, h = self.app.size
        m = self.manager
        pw, ph = min(820, w - 60), h - 60
        rect = pygame.Rect((w - pw) // 2, (h - ph) // 2, pw, ph)
        panel = self.keep(UIPanel(rect, starting_height=5, manager=m, object_id="#briefing"))
        UILabel(
            pygame.Rect(12, 8, pw - 24, 34),
            tr("briefing_title", role=self.session.role.name),
            m,
            container=panel,
            object_id="@heading",
        )
        UITextBox(
            briefing_text(self.session),
            pygame.Rect(12, 46, pw - 24, ph - 112),
            m,
            container=panel,
            object_id="#briefing_body",
        )
        self.hints = UICheckBox(
            pygame.Rect(16, ph - 50, 20, 20),
            tr("briefing_hints"),
            m,
            container=panel,
            object_id="#briefing_hints",
            initial_state=self.app.hints,
        )
        self.button = UIButton(
            pygame.Rect(pw - 180, ph - 60, 160, 42),
            tr("briefing_start"),
            m,
            container=panel,
            object_id="#briefing_start",
        )

    def draw(self, surface: pygame.Surface) -> None:
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 160))
        surface.blit(shade, (0, 0))

    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type in (pygame_gui.UI_CHECK_BOX_CHECKED, pygame_gui.UI_CHECK_BOX_UNCHECKED):
            if event.ui_element is self.hints:
                self.app.hints = event.type == pygame_gui.UI_CHECK_BOX_CHECKED
                return True
        pressed = event.type == pygame_gui.UI_BUTTON_PRESSED and event.ui_element is self.button
        keyed = event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN
        if pressed or keyed:
            self.app.pop()
            return True
        if event.type == pygame.MOUSEWHEEL:
            return False  # the text box scrolls
        return event.type in (pygame.KEYDOWN, pygame.MOUSEBUTTONDOWN)  # the game waits
