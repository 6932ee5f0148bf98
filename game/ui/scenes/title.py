"""The title and setup screen: scenario (with its description), role, difficulty and the
hot-seat teams. Roles nobody takes are played by bots. Continue brings back the last game
autosaved (game/play/autosave.py), and Lessons lists the prepared games for a class."""

from __future__ import annotations

import pygame
import pygame_gui
from pygame_gui.elements import (
    UIButton,
    UICheckBox,
    UIDropDownMenu,
    UILabel,
    UIScrollingContainer,
    UITextBox,
    UIWindow,
)
from pygame_gui.windows import UIFileDialog

from game.config.errors import InputError
from game.config.lesson import lesson_names, load_lesson
from game.config.scenario import load_scenario, scenario_names
from game.config.texts import family
from game.config.texts import text as tr
from game.play import autosave
from game.play.objectives import DEFAULT_ROLE, ROLES
from game.play.session import GameSession
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
        self.lesson_buttons: dict[UIButton, str] = {}
        self.lessons_window: UIWindow | None = None

    def build(self) -> None:
        w, h = self.app.size
        m = self.manager
        cx = w // 2
        col = min(760, w - 80)
        x = cx - col // 2
        self.keep(UILabel(pygame.Rect(x, h * 0.08, col, 60), tr("title"), m, object_id="@title"))
        self.keep(
            UILabel(
                pygame.Rect(x, h * 0.08 + 58, col, 30), tr("subtitle"), m, object_id="@subtitle"
            )
        )
        y = int(h * 0.08) + 110
        label_w = 150
        ctl = pygame.Rect(x + label_w, y, col - label_w, 32)
        self.keep(
            UILabel(pygame.Rect(x, y, label_w, 32), tr("setup_scenario"), m, object_id="@heading")
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
        self.keep(
            UILabel(pygame.Rect(x, y, label_w, 32), tr("setup_role"), m, object_id="@heading")
        )
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
                pygame.Rect(x + label_w, y, col - label_w, 74),  # three lines: the longest
                m,
                object_id="#role_objective",
            )
        )
        y += 84
        self.keep(
            UILabel(pygame.Rect(x, y, label_w, 32), tr("setup_difficulty"), m, object_id="@heading")
        )
        options = [(name, key) for key, name in family("difficulties").items()]
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
        self.keep(UILabel(pygame.Rect(x, y, col, 26), tr("setup_teams"), m, object_id="@small"))
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
        self.keep(UILabel(pygame.Rect(x, y, col, 24), tr("setup_bots"), m, object_id="@small"))
        y += 40
        gap = 10
        bw = (col - 4 * gap) // 5
        row = [
            ("start", tr("setup_start")),
            ("continue", tr("setup_continue")),
            ("lessons", tr("setup_lessons")),
            ("load", tr("setup_load")),
            ("quit", tr("setup_quit")),
        ]
        buttons = [
            self.keep(
                UIButton(pygame.Rect(x + i * (bw + gap), y, bw, 44), text, m, object_id=f"#{key}")
            )
            for i, (key, text) in enumerate(row)
        ]
        (
            self.start_button,
            self.continue_button,
            self.lessons_button,
            self.load_button,
            self.quit_button,
        ) = buttons
        self.saved = autosave.latest(self.app.saves_dir) if self.app.autosave else None
        if self.saved is None:
            self.continue_button.disable()
        self.continue_label = self.keep(
            UILabel(
                pygame.Rect(x, y + 48, col, 24),
                self._continue_text(),
                m,
                object_id="#continue_info",
            )
        )
        if self.lessons_window is not None:  # a rebuild (resize) keeps the list open
            self.open_lessons()

    def _continue_text(self) -> str:
        """What Continue brings back: the game, the seated role, the month."""
        if self.saved is None:
            return tr("setup_continue_none")
        meta = self.saved.meta
        role = ROLES.get(str(meta.get("current_role")))
        date = meta.get("date") or ""
        return tr(
            "setup_continue_info",
            what=meta.get("lesson_title") or meta.get("scenario", ""),
            role=role.name if role else meta.get("current_role", ""),
            date=date,
            turn=meta.get("turn", 0),
            horizon=meta.get("horizon", "?"),
        )

    def roles(self) -> list[str]:
        """The hot-seat order: the chosen role first, then the other teams ticked."""
        return [self.role] + [r for r in ROLES if r in self.teams and r != self.role]

    def start(self) -> None:
        session = GameSession(
            self.scenario, roles=self.roles(), difficulty=self.difficulty, rng=self.seed
        )
        self.app.play(session, briefing=True)  # a new game: the role's briefing first

    def continue_game(self) -> None:
        """The last game autosaved, where it was left (a lesson with its facilitator's
        settings, a hot-seat game at the hand-over it was left on)."""
        if self.saved is not None:
            self.load(str(self.saved.path))

    def open_lessons(self) -> None:
        """The lessons, as `python main.py lessons` lists them, each with a Start button."""
        if self.lessons_window is not None and self.lessons_window.alive():
            self.lessons_window.kill()
        w, h = self.app.size
        m = self.manager
        ww, wh = min(680, w - 40), min(600, h - 40)
        window = UIWindow(
            pygame.Rect((w - ww) // 2, (h - wh) // 2, ww, wh),
            m,
            window_display_title=tr("lessons_title"),
            object_id="#lessons_window",
        )
        self.lessons_window = self.keep(window)
        inner_w, inner_h = window.get_container().get_size()
        UITextBox(
            tr("lessons_intro"),
            pygame.Rect(4, 4, inner_w - 8, 58),
            m,
            container=window,
            object_id="@small",
        )
        names = lesson_names()
        row = 124  # a title, two lines of summary, the teams
        scroll = UIScrollingContainer(
            pygame.Rect(0, 66, inner_w, inner_h - 66),
            m,
            container=window,
            allow_scroll_x=False,
        )
        scroll.set_scrollable_area_dimensions((inner_w - 20, row * len(names)))
        self.lesson_buttons = {}
        for i, name in enumerate(names):
            lesson = load_lesson(name)
            spec = lesson.spec
            text = tr(
                "lesson_row",
                title=spec.title,
                summary=spec.summary,
                teams=", ".join(ROLES[r].name for r in spec.roles),
                months=lesson.months,
                turn=spec.turn_months,
                hidden=tr("lesson_row_hidden") if spec.hidden else "",
            )
            y = i * row
            UITextBox(text, pygame.Rect(4, y, inner_w - 130, row - 6), m, container=scroll)
            b = UIButton(
                pygame.Rect(inner_w - 118, y + (row - 42) // 2, 90, 36),
                tr("lesson_open"),
                m,
                container=scroll,
                object_id=f"#lesson_{name}",
            )
            self.lesson_buttons[b] = name

    def start_lesson(self, name: str) -> None:
        """A lesson as `play --lesson NAME` opens it: its own teams, difficulty and seed,
        behind the screen that introduces it."""
        try:
            session = GameSession.from_lesson(load_lesson(name))
        except InputError as exc:
            self.error(str(exc))
            return
        self.app.play(session, intro=True)

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
            elif event.ui_element is self.continue_button:
                self.continue_game()
            elif event.ui_element is self.lessons_button:
                self.open_lessons()
            elif event.ui_element in self.lesson_buttons:
                self.start_lesson(self.lesson_buttons[event.ui_element])
            elif event.ui_element is self.quit_button:
                self.app.running = False
            elif event.ui_element is self.load_button:
                self.app.saves_dir.mkdir(parents=True, exist_ok=True)
                w, h = self.app.size
                self.keep(
                    UIFileDialog(
                        pygame.Rect(w // 2 - 260, h // 2 - 220, 520, 440),
                        self.manager,
                        tr("load_title"),
                        initial_file_path=str(self.app.saves_dir),
                        allow_existing_files_only=True,
                    )
                )
            return True
        if event.type == pygame_gui.UI_FILE_DIALOG_PATH_PICKED:
            self.load(event.text)
            return True
        if event.type == pygame_gui.UI_WINDOW_CLOSE and event.ui_element is self.lessons_window:
            self.lessons_window = None
            return True
        if event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN:
            self.start()
            return True
        return False

    def load(self, path: str) -> None:
        try:
            session = GameSession.load(path)
        except InputError as exc:
            self.error(str(exc))
            return
        self.app.play(session)

