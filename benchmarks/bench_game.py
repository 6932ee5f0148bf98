"""Frame times of the game, headless: 600 frames of the play screen at 4x speed (two months a
second), with the map animating, charts redrawn each month and the news updated. Prints the
percentiles of the time a frame takes to compute and draw (the wait for the 60 FPS clock is
not included). The target is p95 under 16 ms: one frame of a 60 Hz display.

With --projections, the game's projection workers run as in play (32 futures a fan, a first
look at 8) and frames are paced at 60 a second, so the fans compete with the frames for the
machine's two cores as they do for a player.

Run: cd /work/main && .venv/bin/python benchmarks/bench_game.py [--size 1280x800] [--frames 600]
     [--speed 4] [--projections]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from game.play.session import GameSession  # noqa: E402
from game.ui.app import App  # noqa: E402
from game.ui.scenes.play import PlayScene  # noqa: E402

TARGET_MS = 16.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--speed", type=int, default=4, choices=[1, 4, 16])
    parser.add_argument("--no-autosave", action="store_true", help="measure without autosaves")
    parser.add_argument(
        "--projections", action="store_true",
        help="with the game's projection workers computing fans as the months pass, and frames "
        "paced at 60 a second as in play (the workers share the machine's cores)",
    )
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    saves = tempfile.TemporaryDirectory()  # the month's autosaves: not into the player's folder
    app = App(
        size, saves_dir=saves.name, projections=args.projections, autosave=not args.no_autosave
    )
    session = GameSession("historical", roles=["us"], rng=1)
    scene = PlayScene(app, session)
    app.replace(scene)
    fans = []
    if args.projections:
        app.start_projector(session)
        app.projector.warm_up(wait=True, timeout=120)
        real_poll = session.poll_projection

        def poll() -> object:
            fan = real_poll()
            if fan is not None:
                fans.append((fan.complete, session.fan_is_current))
            return fan

        session.poll_projection = poll  # type: ignore[method-assign]
    session.decide("export_rule", "oct2023")
    for proposal in session.proposals:  # history's steps would stop time at their dates
        session.ignore(proposal)
    scene.speed, scene.paused = args.speed, False
    for _ in range(10):  # warm-up: first layout, fonts, caches
        app.frame(1 / 60)
    app.frame_times.clear()
    start_turn = session.model.turn
    t0 = time.perf_counter()
    for i in range(args.frames):
        app.frame(1 / 60)  # a fixed 60 FPS clock: at 4x a month passes every 30 frames
        if args.projections:  # paced as in play, so the workers compute as they would
            time.sleep(max(0.0, t0 + (i + 1) / 60 - time.perf_counter()))
    wall = time.perf_counter() - t0
    ms = np.array(app.frame_times) * 1e3
    months = scene.session.model.turn - start_turn
    print(
        f"bench_game: {args.frames} frames of the play screen at {size[0]}x{size[1]}, "
        f"{args.speed}x speed, {months} months advanced"
    )
    print(
        f"  frame time ms: p50 {np.percentile(ms, 50):.2f}  p90 {np.percentile(ms, 90):.2f}  "
        f"p95 {np.percentile(ms, 95):.2f}  p99 {np.percentile(ms, 99):.2f}  max {ms.max():.2f}"
    )
    print(
        f"  frames with a month change: {months} ({months / args.frames:.1%}); "
        f"total {wall:.2f} s, {args.frames / wall:.0f} frames/s unthrottled"
    )
    written = np.array(app.autosaver.seconds) * 1e3
    if len(written):
        print(
            f"  autosaves written beside the frames: {len(written)}, "
            f"ms each: p50 {np.percentile(written, 50):.1f}  max {written.max():.1f}"
        )
    if args.projections:
        whole = sum(1 for complete, _ in fans if complete)
        current = sum(1 for _, now in fans if now)
        print(
            f"  fans shown beside the frames: {len(fans)} ({whole} whole, "
            f"{len(fans) - whole} first looks; {current} of the month on screen, the rest "
            "labelled as projected from an earlier month)"
        )
    verdict = "meets" if np.percentile(ms, 95) < TARGET_MS else "does NOT meet"
    print(f"  target p95 < {TARGET_MS:.0f} ms: {verdict} it")
    app.close()
    pygame.quit()


if __name__ == "__main__":
    main()
