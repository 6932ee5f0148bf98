"""game/config/texts.py: one file per language, English where a translation lacks a key, and
`python main.py play --language` choosing among the files shipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from game.cli import build_parser
from game.config import texts


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A translation folder with the English file and a partial 'xx' one."""
    english = json.loads(texts.translation_file("en").read_text(encoding="utf-8"))
    (tmp_path / "silicon_curtain.en.json").write_text(json.dumps(english), encoding="utf-8")
    partial = {"xx": {"pause": "Pauze", "saved": "Bewaard in %{path}"}}
    (tmp_path / "silicon_curtain.xx.json").write_text(json.dumps(partial), encoding="utf-8")
    monkeypatch.setattr(texts, "TRANSLATION_DIR", tmp_path)
    texts.table.cache_clear()
    yield tmp_path
    texts.set_language("en")
    texts.table.cache_clear()


def test_a_language_falls_back_to_english_key_by_key(folder: Path) -> None:
    assert texts.languages() == ["en", "xx"]
    texts.set_language("xx")
    assert texts.text("pause") == "Pauze"
    assert texts.text("saved", path="a.scgame") == "Bewaard in a.scgame"
    assert texts.text("undo") == "Undo"  # not translated yet: the English


def test_an_unknown_language_or_key_or_a_missing_value_fails_clearly(folder: Path) -> None:
    with pytest.raises(ValueError, match="no translation for 'zz'"):
        texts.set_language("zz")
    with pytest.raises(KeyError):
        texts.text("no_such_key")
    with pytest.raises(KeyError):
        texts.text("saved")  # its %{path} not given


def test_percent_signs_and_placeholders() -> None:
    assert texts.placeholders("%{a} and %b, 10-90%% of") == {"a", "b"}
    assert texts.text("fan_ready", n=16) == "shaded: 10-90% of 16 futures over what we don't know"
    with pytest.raises(ValueError, match="lone '%'"):
        texts.placeholders("10-90% of")


def test_play_takes_a_shipped_language() -> None:
    assert build_parser().parse_args(["play"]).language == "en"
    assert build_parser().parse_args(["play", "--language", "en"]).language == "en"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["play", "--language", "xx"])
