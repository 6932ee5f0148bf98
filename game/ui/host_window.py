"""The projector's window of a networked class: the game's app with one scene, the host's
(game/ui/scenes/host.py), while the server serves the students' pages in its own thread.
Closing the window stops the server; the room stays saved in its folder to resume."""

from __future__ import annotations

import pygame

from game.ui.app import DEFAULT_SIZE, App
from game.ui.scenes.host import Served


def run_host_window(
    server: Served,
    size: tuple[int, int] = DEFAULT_SIZE,
    fullscreen: bool = False,
    max_frames: int | None = None,
    screenshot: str | None = None,
) -> int:
    """Show the room on the projector until the window is closed; with `screenshot`, draw
    `max_frames` frames (default 3) and save the window as a PNG instead."""
    app = App(size, fullscreen=fullscreen, projections=False, auto_report=False, autosave=False)
    try:
        app.replace(app.make("host", server))
        if screenshot is not None:
            app.run(max_frames=max_frames or 3, fixed_dt=1 / 60)
            pygame.image.save(app.screen, screenshot)
        else:
            app.run(max_frames=max_frames)
    finally:
        app.close()
        pygame.quit()
        server.stop()
    return 0
