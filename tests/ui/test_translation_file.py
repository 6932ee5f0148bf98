"""The player's text lives in one file (assets/translations/silicon_curtain.en.json): every key
the code asks for is in it, every key in it is asked for, each text's %{name} placeholders are
the names the code fills, and the scenes do not grow their own sentences again.

The code is read, not run: calls of game/config/texts.py's `text` (whatever it is imported as)
and `family` in game/, with the key a string, a choice of two strings (`a if x else b`), an
f-string whose constant start names a family of keys, or a name bound to a tuple of strings."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from game.config import texts

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = json.loads(texts.translation_file("en").read_text(encoding="utf-8"))["en"]

# Texts that may leave out some of what the code fills (the status line's shorter forms).
SHORTER_FORMS = ("status_shorter_",)
# Strings of more than three words in the scenes that are not text for the player.
SCENE_EXCEPTIONS: set[str] = set()


@dataclass
class Use:
    where: str
    keys: list[str]  # the keys this call may ask for
    names: set[str] | None  # the placeholder names it fills (None: unknown, a **mapping)
    prefix: str | None = None  # an f-string key: every key starting with this


def _tuples(tree: ast.AST) -> dict[str, list[str]]:
    """Names bound to a tuple or list of strings (a key may be picked from one)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List):
            items = node.value.elts
            if items and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in items
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = [e.value for e in items]
    return found


def _dicts(func: ast.AST) -> dict[str, set[str]]:
    """Names bound to a dict literal with string keys in one function (for `**name`)."""
    found = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys = node.value.keys
            if all(isinstance(k, ast.Constant) for k in keys):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = {k.value for k in keys}
    return found


def _key_forms(node: ast.expr, tuples: dict[str, list[str]], loops: dict[str, ast.expr]):
    """(keys, prefix) a key expression may take."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value], None
    if isinstance(node, ast.IfExp):
        a, _ = _key_forms(node.body, tuples, loops)
        b, _ = _key_forms(node.orelse, tuples, loops)
        return a + b, None
    if isinstance(node, ast.JoinedStr):
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return [], first.value
    if isinstance(node, ast.Name) and node.id in loops:  # for f in ("status", *MORE)
        keys = []
        for e in loops[node.id].elts:
            if isinstance(e, ast.Constant):
                keys.append(e.value)
            elif isinstance(e, ast.Starred) and isinstance(e.value, ast.Name):
                keys += tuples.get(e.value.id, [])
        return keys, None
    raise AssertionError(f"a key the test cannot read: {ast.unparse(node)}")


def _uses() -> tuple[list[Use], set[str]]:
    uses, families = [], set()
    for path in sorted([*(ROOT / "game").rglob("*.py"), *(ROOT / "agents").rglob("*.py")]):
        source = path.read_text(encoding="utf-8")
        if "game.config.texts" not in source:
            continue
        tree = ast.parse(source)
        rel = path.relative_to(ROOT).as_posix()
        text_names, family_names = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "game.config.texts":
                for alias in node.names:
                    (text_names if alias.name == "text" else family_names).add(
                        alias.asname or alias.name
                    )
        tuples = _tuples(tree)
        loops = {
            comp.target.id: comp.iter
            for comp in ast.walk(tree)
            if isinstance(comp, ast.comprehension | ast.For)
            and isinstance(comp.target, ast.Name)
            and isinstance(comp.iter, ast.Tuple)
        }
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.Module):
                continue
            dicts = _dicts(func)
            for call in ast.walk(func):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                    continue
                where = f"{rel}:{call.lineno}"
                if call.func.id in family_names:
                    families.add(call.args[0].value)
                    continue
                if call.func.id not in text_names:
                    continue
                keys, prefix = _key_forms(call.args[0], tuples, loops)
                names: set[str] | None = set()
                for kw in call.keywords:
                    if kw.arg is not None:
                        names.add(kw.arg)
                    elif isinstance(kw.value, ast.Name) and kw.value.id in dicts:
                        names |= dicts[kw.value.id]
                    else:
                        names = None
                        break
                uses.append(Use(where, keys, names, prefix))
    # a function seen from the module and from itself: one use per place
    unique = {(u.where, tuple(u.keys), u.prefix): u for u in uses}
    return list(unique.values()), families


USES, FAMILIES = _uses()


def _family_keys(prefix: str) -> list[str]:
    return [k for k in ENGLISH if k.startswith(prefix)]


def test_the_code_asks_for_keys_the_file_has() -> None:
    missing = [f"{u.where}: {k}" for u in USES for k in u.keys if k not in ENGLISH]
    missing += [f"{u.where}: {u.prefix}*" for u in USES if u.prefix and not _family_keys(u.prefix)]
    missing += [f"family {f}" for f in FAMILIES if not _family_keys(f + "_")]
    assert missing == []


def test_every_key_in_the_file_is_used() -> None:
    used = {k for u in USES for k in u.keys}
    prefixes = [u.prefix for u in USES if u.prefix] + [f + "_" for f in FAMILIES]
    unused = [k for k in ENGLISH if k not in used and not k.startswith(tuple(prefixes))]
    assert unused == []


def test_placeholders_match_what_the_code_fills() -> None:
    wrong = []
    for u in USES:
        keys = u.keys + (_family_keys(u.prefix) if u.prefix else [])
        for k in keys:
            if k in ENGLISH and u.names is not None:
                wanted = texts.placeholders(ENGLISH[k])
                fits = wanted <= u.names if k.startswith(SHORTER_FORMS) else wanted == u.names
                if not fits:
                    wrong.append(f"{u.where}: {k} has {sorted(wanted)}, fills {sorted(u.names)}")
    for f in FAMILIES:  # family() fills nothing
        wrong += [k for k in _family_keys(f + "_") if texts.placeholders(ENGLISH[k])]
    assert wrong == []
    assert all(u.names is not None for u in USES), [u.where for u in USES if u.names is None]


def test_the_file_is_pygame_gui_format_and_python_i18n_reads_it() -> None:
    """{"en": {key: text}}, keys without dots (python-i18n splits keys at dots), no reserved
    placeholder names; pygame_gui's translate gives the same text as texts.text."""
    assert all("." not in k for k in ENGLISH)
    reserved = {"count", "locale", "default"}
    assert not [k for k, v in ENGLISH.items() if texts.placeholders(v) & reserved]
    i18n = pytest.importorskip("i18n")
    i18n.set("file_format", "json")
    if str(texts.TRANSLATION_DIR) not in i18n.load_path:
        i18n.load_path.append(str(texts.TRANSLATION_DIR))
    numbers = {"plays": "X", "value": "1.0", "target": "2.0", "base": "1.0"}
    assert i18n.t(texts.key("score_lab"), **numbers) == texts.text("score_lab", **numbers)
    assert i18n.t(texts.key("fan_short")) == texts.text("fan_short") == "shaded: 10-90% of futures"


def _words(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return ""


def test_the_scenes_write_no_sentences_of_their_own() -> None:
    """A string of more than three words in a call in game/ui/scenes belongs in the file
    (docstrings, exceptions and log lines aside)."""
    found = []
    for path in sorted((ROOT / "game" / "ui" / "scenes").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise | ast.Assert):
                skip |= {id(n) for n in ast.walk(node)}
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("debug", "info", "warning", "error", "exception"):
                    if isinstance(node.func.value, ast.Name) and node.func.value.id == "log":
                        skip |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                for part in ast.walk(arg):
                    words = _words(part)
                    if id(part) in skip or len(words.split()) <= 3 or words in SCENE_EXCEPTIONS:
                        continue
                    found.append(f"{path.name}:{part.lineno}: {words!r}")
    assert found == []
