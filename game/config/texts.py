"""Every text the game shows a player, from one file per language.

The file is `assets/translations/silicon_curtain.<language>.json`, in pygame_gui's format
(python-i18n's): `{"en": {"key": "text with %{name} placeholders"}}`; pygame_gui reads the same
folder (`TRANSLATION_DIR`), so a widget given `NAMESPACE + "." + key` translates itself. Below the
UI, and in the UI wherever a text is measured or composed, `text(key, **values)` gives the text in
the chosen language (English where a translation lacks a key). A literal percent sign is written
`%%`. Reserved by python-i18n, never placeholder names: count, locale, default.

No pygame here: the play layer (scores, objectives, the comparison world) formats through it too.
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path

from game.config.paths import TRANSLATION_DIR

NAMESPACE = "silicon_curtain"
ENGLISH = "en"
_language = ENGLISH


class _Template(string.Template):
    delimiter = "%"  # python-i18n's placeholders: %{name} (or %name), %% for a percent sign


def translation_file(language: str) -> Path:
    return TRANSLATION_DIR / f"{NAMESPACE}.{language}.json"


def languages() -> list[str]:
    """The languages a file is shipped for (language codes, English first)."""
    found = sorted(
        p.name.split(".")[1] for p in TRANSLATION_DIR.glob(f"{NAMESPACE}.*.json") if p.is_file()
    )
    return sorted(found, key=lambda code: code != ENGLISH)


@cache
def table(language: str = ENGLISH) -> dict[str, str]:
    """One language's texts by key (what its file holds under its language code)."""
    path = translation_file(language)
    if not path.is_file():
        raise ValueError(f"no translation for '{language}' (expected {path.name})")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get(language), dict):
        raise ValueError(f'{path.name} should hold {{"{language}": {{key: text}}}}')
    return data[language]


def set_language(language: str) -> None:
    """Show the game in `language` from now on (its file must exist)."""
    global _language
    table(language)  # fails now, not at the first text
    _language = language


def language() -> str:
    return _language


def placeholders(template: str) -> set[str]:
    """The names a text's %{name} placeholders take."""
    names = set()
    for match in _Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
        elif match.group("invalid") is not None:
            raise ValueError(f"a lone '%' in {template!r}: write '%%' for a percent sign")
    return names


def text(key: str, **values: object) -> str:
    """The text for `key` in the current language, its %{name} placeholders filled with
    `values` (every placeholder needs one)."""
    own = table(_language)
    template = own.get(key)
    if template is None:
        template = table(ENGLISH)[key]  # a KeyError names a key the English file lacks
    parts = _parts(template)
    if parts is None:  # a lone '%': string.Template says where
        return _Template(template).substitute(**values)
    # what Template.substitute returns: literals as they are, placeholders as str(value)
    return "".join(part if is_text else str(values[part]) for is_text, part in parts)


@cache
def _parts(template: str) -> tuple[tuple[bool, str], ...] | None:
    """A text split once into (True, literal) and (False, placeholder name) parts, as
    string.Template's pattern reads it ('%%' a literal '%'); None if it has a lone '%'.
    Why: the news fills the same few texts every month, and the split is most of the work."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for match in _Template.pattern.finditer(template):
        if match.group("invalid") is not None:
            return None
        parts.append((True, template[pos : match.start()]))
        name = match.group("named") or match.group("braced")
        parts.append((False, name) if name is not None else (True, _Template.delimiter))
        pos = match.end()
    parts.append((True, template[pos:]))
    return tuple(part for part in parts if not (part[0] and part[1] == ""))


def key(name: str) -> str:
    """The key pygame_gui looks `name` up by (the file's name is its namespace)."""
    return f"{NAMESPACE}.{name}"


def family(prefix: str) -> dict[str, str]:
    """The texts whose keys are `prefix`_<id>, by id, in the file's order: names keyed by an id
    from the data (a bloc's short name, a choice's), which the code does not list itself."""
    start = prefix + "_"
    return {k[len(start) :]: text(k) for k in table(ENGLISH) if k.startswith(start)}
