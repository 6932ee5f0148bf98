"""Text the game draws itself (chart titles and axes, the map's names and legend, messages):
fitting it to a width, and noting where it lands.

The notes are off unless a test turns them on (`start`): then each place that draws text notes
what it drew under a key of its own, replacing what it noted there before, in screen
coordinates with the panel the text must stay inside. tests/ui/test_text_fits.py reads them to
check that no text runs out of its panel or over another."""

from __future__ import annotations

from dataclasses import dataclass

import pygame

ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Placed:
    key: str  # who drew it (a chart, the map, the play screen's message)
    text: str
    rect: pygame.Rect  # where, on the screen
    bounds: pygame.Rect  # the panel it belongs to


_notes: dict[str, list[Placed]] | None = None


def start() -> None:
    """Note drawn text from now on (tests)."""
    global _notes
    _notes = {}


def stop() -> None:
    global _notes
    _notes = None


def recording() -> bool:
    return _notes is not None


def placed() -> list[Placed]:
    """Everything noted, as it was last drawn."""
    return [p for items in (_notes or {}).values() for p in items]


def note(
    key: str,
    items: list[tuple[str, pygame.Rect]],
    bounds: pygame.Rect,
    origin: tuple[int, int] = (0, 0),
) -> None:
    """Note the texts one place drew (rects in the coordinates of `bounds`; `origin` is where
    that surface sits on the screen), replacing what it noted before."""
    if _notes is None:
        return
    ox, oy = origin
    _notes[key] = [
        Placed(key, text, pygame.Rect(rect).move(ox, oy), pygame.Rect(bounds).move(ox, oy))
        for text, rect in items
    ]


def forget(key: str) -> None:
    if _notes is not None:
        _notes.pop(key, None)


def fit(font: pygame.font.Font, text: str, width: int) -> str:
    """The text, cut at a word (or a character) and ended with an ellipsis if it is wider than
    `width` pixels."""
    if font.size(text)[0] <= width:
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        cut = " ".join(words).rstrip(" ,;:|-") + ELLIPSIS
        if font.size(cut)[0] <= width:
            return cut
    cut = text
    while cut and font.size(cut + ELLIPSIS)[0] > width:
        cut = cut[:-1]
    return cut + ELLIPSIS if cut else ""


def wrap(font: pygame.font.Font, text: str, width: int) -> list[str]:
    """The text in lines no wider than `width` pixels, broken between words (a word wider
    than that is cut with an ellipsis)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.size(f"{lines[-1]} {word}")[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(fit(font, word, width))
    return lines


def first_fitting(font: pygame.font.Font, texts: list[str], width: int) -> str:
    """The first of `texts` (longest form first) that fits, or the last one cut to fit."""
    for t in texts:
        if font.size(t)[0] <= width:
            return t
    return fit(font, texts[-1], width)
