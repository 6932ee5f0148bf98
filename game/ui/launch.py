"""Opening the game: the window, its first scene, or a headless screenshot. It imports every
scene, which registers it by name with the app (game/ui/app.py: `scene`)."""

from __future__ import annotations

import pygame

from game.config.lesson import load_lesson
from game.play.objectives import DEFAULT_ROLE
from game.play.session import GameSession
from game.ui.app import DEFAULT_SIZE, App
from game.ui.scenes.briefing import BriefingScene  # noqa: F401 - registers the briefing
from game.ui.scenes.debrief import DebriefScene
from game.ui.scenes.handoff import HandoffScene  # noqa: F401 - registers the hand-off scene
from game.ui.scenes.lesson_intro import LessonIntroScene
from game.ui.scenes.play import PlayScene
from game.ui.scenes.title import TitleScene


def play(
    scenario: str = "historical",
    role: str | None = None,
    difficulty: str | None = "normal",
    teams: list[str] | None = None,
    seed: int | None = 2022,
    size: tuple[int, int] = DEFAULT_SIZE,
    screenshot: str | None = None,
    autoplay: int = 0,
    scene: str = "play",
    saves_dir: str | None = None,
    fullscreen: bool = False,
    lesson: str | None = None,
) -> int:
    """Open the game. With `screenshot`, play `autoplay` months headless, draw the chosen scene
    and save it as a PNG (for docs, tests and bug reports) instead of opening the title. With
    `lesson`, the lesson's game starts at once, behind a screen that introduces it."""
    app = App(
        size,
        saves_dir=saves_dir,
        fullscreen=fullscreen,
        projections=screenshot is None,
        auto_report=screenshot is None,
        autosave=screenshot is None,  # a picture for the docs keeps no game
    )
    session = None
    if lesson is not None:
        session = GameSession.from_lesson(load_lesson(lesson), difficulty, seed)
    if screenshot is None:
        if session is not None:
            app.play(session, intro=True)
        else:
            app.replace(
                TitleScene(
                    app, scenario, role, difficulty or "normal", 2022 if seed is None else seed
                )
            )
        app.run()
        pygame.quit()
        return 0
    if session is None:
        role = role or DEFAULT_ROLE
        roles = [role] + [t for t in (teams or []) if t != role]
        session = GameSession(
            scenario,
            roles=roles,
            difficulty=difficulty or "normal",
            rng=2022 if seed is None else seed,
        )
    if scene == "title" and lesson is None:
        app.replace(
            TitleScene(app, scenario, role, difficulty or "normal", 2022 if seed is None else seed)
        )
    elif scene == "title":  # a lesson's first screen is its introduction, over the game
        app.replace(PlayScene(app, session))
        app.push(LessonIntroScene(app, session))
    else:
        months = (
            session.view.horizon if scene == "debrief" else min(autoplay, session.view.horizon)
        )
        for _ in range(months):
            session.step()
            if session.handoff_due:
                session.next_player()
        app.replace(DebriefScene(app, session) if scene == "debrief" else PlayScene(app, session))
        if lesson is not None and scene == "play" and months == 0:
            app.push(LessonIntroScene(app, session))
    for _ in range(3):  # let widgets settle (tooltips, text layout) before the picture
        app.frame(1 / 60)
    app.screenshot(screenshot)
    app.close()
    pygame.quit()
    print(f"Wrote {screenshot}")
    return 0
