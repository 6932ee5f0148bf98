"""The game window: one pygame_gui manager, a stack of scenes (title, play, hand-off, debrief),
and the frame loop. Modelled on pygame_gui's example apps and Tuxemon's state stack: a scene
builds its widgets, handles events, updates and draws; the app only routes and flips."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygame
import pygame_gui
from pygame_gui.windows import UIConfirmationDialog, UIMessageWindow

from game.config import texts
from game.config.paths import ASSETS_DIR, DATA_ROOT, TRANSLATION_DIR, user_dir
from game.config.texts import text as tr
from game.play.autosave import Autosaver

THEME_FILE = ASSETS_DIR / "ui" / "theme.json"
FONT_DIR = ASSETS_DIR / "fonts"
DEFAULT_SIZE = (1280, 800)
MIN_SIZE = (1024, 700)
FPS = 60


def load_theme() -> dict[str, Any]:
    """The theme file with its font paths made absolute, so the game runs from any folder."""
    theme = json.loads(THEME_FILE.read_text())
    for block in theme.values():
        font = block.get("font") if isinstance(block, dict) else None
        if font:
            for key, value in list(font.items()):
                if key.endswith("_path"):
                    font[key] = str(DATA_ROOT / value)
    return theme


def font(size: int, bold: bool = False) -> pygame.font.Font:
    """The shipped Noto Sans, for what the app draws itself (map labels, charts)."""
    return pygame.font.Font(
        str(FONT_DIR / ("NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf")), size
    )


def confirmation(
    manager: pygame_gui.UIManager,
    size: tuple[int, int],
    title: str,
    text: str,
    yes: str,
    object_id: str,
    cancel: str | None = None,
) -> UIConfirmationDialog:
    """A question in the middle of the window with a yes and a cancel button (its label
    `cancel`, else pygame_gui's): quitting, leaving a game, ending a class."""
    w, h = size
    dialog = UIConfirmationDialog(
        pygame.Rect(w // 2 - 230, h // 2 - 110, 460, 220),
        text,
        manager,
        window_title=title,
        action_short_name=yes,
        object_id=object_id,
    )
    if cancel is not None:
        dialog.cancel_button.set_text(cancel)
    return dialog


SCENES: dict[str, type[Scene]] = {}


def scene(name: str) -> Callable[[type[Scene]], type[Scene]]:
    """Register a scene class under a name: scenes lead to each other by name
    (`app.make("debrief", session)`), so no scene module imports another."""

    def register(cls: type[Scene]) -> type[Scene]:
        SCENES[name] = cls
        return cls

    return register


class Scene:
    """One screen. Builds its widgets in `build`, drops them in `leave`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.elements: list[pygame_gui.core.UIElement] = []

    @property
    def manager(self) -> pygame_gui.UIManager:
        return self.app.manager

    def keep(self, element: Any) -> Any:
        """Track an element so that leaving the scene removes it."""
        self.elements.append(element)
        return element

    def build(self) -> None: ...

    def leave(self) -> None:
        for element in self.elements:
            element.kill()
        self.elements.clear()

    def resume(self) -> None: ...

    def error(self, text: str, title: str | None = None, object_id: str = "#error") -> None:
        """A message window over the scene, for what went wrong (a file that would not load,
        a save that failed): the scene goes on."""
        w, h = self.app.size
        self.keep(
            UIMessageWindow(
                pygame.Rect(w // 2 - 230, h // 2 - 110, 460, 220),
                text,
                self.manager,
                window_title=title or tr("error_title"),
                object_id=object_id,
            )
        )

    @property
    def holds_game(self) -> bool:
        """Whether leaving this scene leaves a game being played (closing the window asks)."""
        return False

    def closing(self) -> None:
        """The app is closing (window closed, Quit, or killed): the last chance to keep
        anything (the play scene writes its autosave)."""

    def process_event(self, event: pygame.event.Event) -> bool:
        return False

    def update(self, dt: float) -> None: ...

    def draw(self, surface: pygame.Surface) -> None: ...

    def rebuild(self) -> None:
        """After a window resize: lay everything out again."""
        self.leave()
        self.build()

# Futures the debrief report's band is drawn over (two runs each: with and without the
# decisions). 16 gives a median and a 10-90% band that a seed does not swing much, in about
# 15 s of a background process after a full game on 2 cores.
REPORT_FUTURES = 16
# Futures behind the play screen's fan, and how many of them come back first as a first look:
# 32 futures give a 10-90% band that does not swing with a few of them (8 left it jumping
# between decisions), and the first 8 put a band on the screen in about a fifth of a second.
GAME_FUTURES = 32
GAME_FIRST_LOOK = 8


class App:
    def __init__(
        self,
        size: tuple[int, int] = DEFAULT_SIZE,
        saves_dir: str | Path | None = None,
        fullscreen: bool = False,
        projections: bool = True,
        auto_report: bool = True,
        report_futures: int = REPORT_FUTURES,
        autosave: bool = True,
    ) -> None:
        pygame.init()
        pygame.display.set_caption(tr("title"))
        self.flags = pygame.RESIZABLE
        self.size = size
        self.screen = pygame.display.set_mode(
            size, self.flags | (pygame.FULLSCREEN if fullscreen else 0)
        )
        # pygame_gui reads the game's text file too (its own dialogs' words, in the same language)
        self.manager = pygame_gui.UIManager(
            size,
            load_theme(),
            enable_live_theme_updates=False,
            starting_language=texts.language(),
            translation_directory_paths=[str(TRANSLATION_DIR)],
        )
        self.manager.preload_fonts(  # italic, which text boxes use (<i>): no load mid-game
            [
                {"name": "noto_sans", "point_size": 14, "style": style, "antialiased": "1"}
                for style in ("italic",)
            ]
        )
        self.clock = pygame.time.Clock()
        self.stack: list[Scene] = []
        self.running = True
        self.saves_dir = Path(saves_dir) if saves_dir else user_dir("saves")
        self.frame_times: list[float] = []
        self.on_quit: list[Callable[[], None]] = []
        self.projections = projections
        self.projector: Any = None
        self.auto_report = auto_report  # the debrief writes the HTML report into saves/reports
        self.report_futures = report_futures  # ... then again with China's gap over N futures
        self.hints = True  # the first months' hints (the briefing's box or the hint's x)
        self.autosave = autosave  # games write saves/autosave*.scgame (game/play/autosave.py)
        self.autosaver = Autosaver()
        self.quit_dialog: UIConfirmationDialog | None = None
        self.closed = False

    def make(self, name: str, *args: Any) -> Scene:
        """A new scene of a registered kind (see `scene`). Each kind lives in the module of its
        name under game/ui/scenes, imported here if nothing has yet: a scene that opens
        another need not import it (which would make the two import each other)."""
        if name not in SCENES:
            importlib.import_module(f"game.ui.scenes.{name}")
        return SCENES[name](self, *args)

    def start_projector(self, session: Any) -> None:
        """One background process for the "what will this do" fans, shared by every game."""
        if not self.projections:
            return
        if self.projector is None:
            from game.play.projection import Projector

            # a job splits its futures between two processes; the first 8 come back as a
            # first look (~0.2 s), all 32 a moment later (benchmarks/bench_fan.py)
            self.projector = Projector(seeds=GAME_FUTURES, workers=2, first=GAME_FIRST_LOOK)
            self.projector.warm_up()
            self.on_quit.append(self.projector.close)
        session.attach_projector(self.projector)

    def play(self, session: Any, intro: bool = False, briefing: bool = False) -> None:
        """Into a game (new, loaded or continued): its play scene with the projector, behind
        the lesson's introduction when `intro`, the role's briefing when `briefing` (a new
        game), or the hand-off screen when the game was left at the end of a team's turn."""
        self.start_projector(session)
        self.replace(self.make("play", session))
        if intro:
            self.push(self.make("lesson_intro", session))
        elif briefing:
            self.push(self.make("briefing", session))
        elif session.handoff_due:
            self.push(self.make("handoff", session))

    # ------------------------------------------------------------------ scenes
    @property
    def scene(self) -> Scene:
        return self.stack[-1]

    def replace(self, scene: Scene) -> None:
        while self.stack:
            self.stack.pop().leave()
        self.manager.clear_and_reset()
        self.stack.append(scene)
        scene.build()

    def push(self, scene: Scene) -> None:
        self.stack.append(scene)
        scene.build()

    def pop(self) -> None:
        self.stack.pop().leave()
        if self.stack:
            self.scene.resume()

    # ------------------------------------------------------------------ window
    def resize(self, size: tuple[int, int]) -> None:
        size = (max(MIN_SIZE[0], size[0]), max(MIN_SIZE[1], size[1]))
        if size == self.size:
            return
        self.size = size
        if not (pygame.display.get_surface().get_flags() & pygame.FULLSCREEN):
            self.screen = pygame.display.set_mode(size, self.flags)
        self.manager.set_window_resolution(size)
        for scene in self.stack:
            scene.leave()
        self.manager.clear_and_reset()
        for scene in self.stack:
            scene.build()

    def toggle_fullscreen(self) -> None:
        pygame.display.toggle_fullscreen()
        self.resize(pygame.display.get_surface().get_size())

    # ------------------------------------------------------------------ the loop
    def frame(self, dt: float) -> None:
        """One frame: events, update, draw. Frame time (without the wait) is recorded."""
        start = time.perf_counter()
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.ask_to_quit()
                continue
            if (
                event.type == pygame_gui.UI_CONFIRMATION_DIALOG_CONFIRMED
                and event.ui_element is self.quit_dialog
            ):
                self.running = False
                continue
            if event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
                self.resize(
                    (event.w, event.h)
                    if hasattr(event, "w")
                    else pygame.display.get_surface().get_size()
                )
                continue
            if event.type == pygame.KEYDOWN and event.key == pygame.K_F11:
                self.toggle_fullscreen()
                continue
            consumed = self.manager.process_events(event)
            if not self.stack:
                continue
            if not consumed or event.type >= pygame.USEREVENT:
                self.scene.process_event(event)
        if self.stack:
            self.scene.update(dt)
        self.manager.update(dt)
        self.screen.fill((14, 17, 23))
        for scene in self.stack:
            scene.draw(self.screen)
        self.manager.draw_ui(self.screen)
        if self.stack:
            draw_after = getattr(self.scene, "draw_overlay", None)
            if draw_after:
                draw_after(self.screen)
        pygame.display.flip()
        self.frame_times.append(time.perf_counter() - start)

    def run(self, max_frames: int | None = None, fixed_dt: float | None = None) -> None:
        frames = 0
        while self.running and (max_frames is None or frames < max_frames):
            dt = fixed_dt if fixed_dt is not None else self.clock.tick(FPS) / 1000.0
            self.frame(dt)
            frames += 1
        self.close()

    def ask_to_quit(self) -> None:
        """Closing the window in a game asks first (the game is autosaved either way); asked
        twice, or with no game open, the game closes."""
        asking = self.quit_dialog is not None and self.quit_dialog.alive()
        if asking or not any(scene.holds_game for scene in self.stack):
            self.running = False
            return
        self.quit_dialog = confirmation(
            self.manager,
            self.size,
            tr("confirm_quit_title"),
            tr("confirm_quit"),
            tr("confirm_quit_yes"),
            "#confirm_quit",
            cancel=tr("confirm_stay"),
        )

    def screenshot(self, path: str | Path) -> None:
        pygame.image.save(self.screen, str(path))

    def close(self) -> None:
        """The app ends (or is killed): scenes keep what they hold (the play scene writes its
        autosave), then the background processes stop."""
        if not self.closed:  # run() closes, and a test or launch may close again
            self.closed = True
            for scene in reversed(self.stack):
                scene.closing()
            self.autosaver.flush()
        for callback in self.on_quit:
            callback()
        self.on_quit.clear()
