"""The title and setup screen: scenario (with its description), role, difficulty and the
hot-seat teams. Roles nobody takes are played by bots."""

from __future__ import annotations

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UICheckBox, UIDropDownMenu, UILabel, UITextBox
from pygame_gui.windows import UIFileDialog, UIMessageWindow

from game.config.errors import InputError
from game.config.scenario import load_scenario, scenario_names
from game.play.objectives import DEFAULT_ROLE, ROLES
from game.play.session import GameSession
from game.ui import strings as S
from game.ui.app import App, Scene, scene


@scene("title")
class TitleScene(Scene):
    def __init__(
        self,
        app: App,
        scenario: str = "historical",
        role: str | None = None,
        difficulty: str = "normal",
        seed: int = 2022,
    ) -> None:
        super().__init__(app)
        self.scenario = scenario
        self.role = role or DEFAULT_ROLE
        self.difficulty = difficulty
        self.seed = seed
        self.teams: set[str] = set()
        self.descriptions = {n: load_scenario(n).description for n in scenario_names()}

    def build(self) -> None:
        w, h = self.app.size
        m = self.manager
        cx = w // 2
        col = min(760, w - 80)
        x = cx - col // 2
        self.keep(UILabel(pygame.Rect(x, h * 0.08, col, 60), S.TITLE, m, object_id="@title"))
        self.keep(
            UILabel(pygame.Rect(x, h * 0.08 + 58, col, 30), S.SUBTITLE, m, object_id="@subtitle")
        )
        y = int(h * 0.08) + 110
        label_w = 150
        ctl = pygame.Rect(x + label_w, y, col - label_w, 32)
        self.keep(
            UILabel(pygame.Rect(x, y, label_w, 32), S.SETUP_SCENARIO, m, object_id="@heading")
        )
        self.scenario_menu = self.keep(
            UIDropDownMenu(scenario_names(), self.scenario, ctl, m, object_id="#scenario")
        )
        y += 40
        self.description = self.keep(
            UITextBox(
                self.descriptions[self.scenario],
                pygame.Rect(x + label_w, y, col - label_w, 54),
                m,
                object_id="#scenario_description",
            )
        )
        y += 64
        self.keep(UILabel(pygame.Rect(x, y, label_w, 32), S.SETUP_ROLE, m, object_id="@heading"))
        options = [(r.name, r.id) for r in ROLES.values()]
        start = next(o for o in options if o[1] == self.role)
        self.role_menu = self.keep(
            UIDropDownMenu(
                options, start, pygame.Rect(x + label_w, y, col - label_w, 32), m, object_id="#role"
            )
        )
        y += 40
        self.objective = self.keep(
            UITextBox(
                ROLES[self.role].objective,
                pygame.Rect(x + label_w, y, col - label_w, 46),
                m,
                object_id="#role_objective",
            )
        )
        y += 56
        self.keep(
            UILabel(pygame.Rect(x, y, label_w, 32), S.SETUP_DIFFICULTY, m, object_id="@heading")
        )
        options = [(text, key) for key, text in S.DIFFICULTIES.items()]
        start = next(o for o in options if o[1] == self.difficulty)
        self.difficulty_menu = self.keep(
            UIDropDownMenu(
                options,
                start,
                pygame.Rect(x + label_w, y, col - label_w, 32),
                m,
                object_id="#difficulty",
            )
        )
        y += 48
        self.keep(UILabel(pygame.Rect(x, y, col, 26), S.SETUP_TEAMS, m, object_id="@small"))
        y += 28
        self.team_boxes: dict[str, UICheckBox] = {}
        per_row = 3  # five roles do not fit one row at 1280 wide
        for i, role in enumerate(ROLES.values()):
            bx = x + 10 + (i % per_row) * (col // per_row)
            by = y + (i // per_row) * 30
            box = self.keep(
                UICheckBox(
                    pygame.Rect(bx, by + 4, 18, 18),
                    role.name,
                    m,
                    object_id=f"#team_{role.id}",
                    initial_state=role.id in self.teams,
                )
            )
            self.team_boxes[role.id] = box
        y += 6 + 30 * -(-len(ROLES) // per_row)
        self.keep(UILabel(pygame.Rect(x, y, col, 24), S.SETUP_BOTS, m, object_id="@small"))
        y += 40
        bw = 150
        self.start_button = self.keep(
            UIButton(
                pygame.Rect(cx - bw * 3 // 2 - 10, y, bw, 44), S.SETUP_START, m, object_id="#start"
            )
        )
        self.load_button = self.keep(
            UIButton(pygame.Rect(cx - bw // 2, y, bw, 44), S.SETUP_LOAD, m, object_id="#load")
        )
        self.quit_button = self.keep(
            UIButton(pygame.Rect(cx + bw // 2 + 10, y, bw, 44), S.SETUP_QUIT, m, object_id="#quit")
        )

    def roles(self) -> list[str]:
        """The hot-seat order: the chosen role first, then the other teams ticked."""
        return [self.role] + [r for r in ROLES if r in self.teams and r != self.role]

    def start(self) -> None:
        session = GameSession(
            self.scenario, roles=self.roles(), difficulty=self.difficulty, rng=self.seed
        )
        self.app.start_projector(session)
        self.app.replace(self.app.make("play", session))
        self.app.push(self.app.make("briefing", session))  # read before the first month

    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame_gui.UI_DROP_DOWN_MENU_CHANGED:
            if event.ui_element is self.scenario_menu:
                self.scenario = event.selected_option_id
                self.description.set_text(self.descriptions[self.scenario])
            elif event.ui_element is self.role_menu:
                self.role = event.selected_option_id
                self.objective.set_text(ROLES[self.role].objective)
            elif event.ui_element is self.difficulty_menu:
                self.difficulty = event.selected_option_id
            return True
        if event.type in (pygame_gui.UI_CHECK_BOX_CHECKED, pygame_gui.UI_CHECK_BOX_UNCHECKED):
            for role, box in self.team_boxes.items():
                if event.ui_element is box:
                    (
                        self.teams.add
                        if event.type == pygame_gui.UI_CHECK_BOX_CHECKED
                        else self.teams.discard
                    )(role)
            return True
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.start_button:
                self.start()
            elif event.ui_element is self.quit_button:
                self.app.running = False
            elif event.ui_element is self.load_button:
                self.app.saves_dir.mkdir(parents=True, exist_ok=True)
                w, h = self.app.size
                self.keep(
                    UIFileDialog(
                        pygame.Rect(w // 2 - 260, h // 2 - 220, 520, 440),
                        self.manager,
                        S.LOAD_TITLE,
                        initial_file_path=str(self.app.saves_dir),
                        allow_existing_files_only=True,
                    )
                )
            return True
        if event.type == pygame_gui.UI_FILE_DIALOG_PATH_PICKED:
            self.load(event.text)
            return True
        if event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN:
            self.start()
            return True
        return False

    def load(self, path: str) -> None:
        try:
            session = GameSession.load(path)
        except InputError as exc:
            w, h = self.app.size
            self.keep(
                UIMessageWindow(
                    pygame.Rect(w // 2 - 230, h // 2 - 110, 460, 220),
                    str(exc),
                    self.manager,
                    window_title=S.ERROR_TITLE,
                    object_id="#error",
                )
            )
            return
        self.app.start_projector(session)
        self.app.replace(self.app.make("play", session))
