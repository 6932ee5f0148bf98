"""Reading YAML safely and finding the line of any key path, for error messages.

Values come only from `yaml.safe_load`; the line numbers come from `yaml.compose` with the safe
loader, which builds a node tree and constructs no Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from game.config.errors import InputError, Problem
from game.config.paths import DATA_ROOT


@dataclass
class YamlDoc:
    """A parsed YAML file: its data and its node tree, to point errors at lines."""

    path: str
    data: Any
    root: yaml.Node | None = field(default=None, repr=False)

    def line_of(self, key_path: tuple[Any, ...] | list[Any]) -> int | None:
        """1-based line of the deepest node that exists along key_path."""
        node = self.root
        best = node.start_mark.line + 1 if node is not None else None
        for key in key_path:
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for k_node, v_node in node.value:
                    if k_node.value == str(key):
                        nxt = v_node
                        best = k_node.start_mark.line + 1
                        break
                if nxt is None:
                    return best
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if not 0 <= key < len(node.value):
                    return best
                node = node.value[key]
                best = node.start_mark.line + 1
            else:
                return best
        return best

    def problem(self, key_path: tuple[Any, ...] | list[Any], message: str) -> Problem:
        return Problem(
            message, file=self.path, line=self.line_of(key_path), key=key_string(key_path)
        )


def key_string(key_path: tuple[Any, ...] | list[Any]) -> str | None:
    """('schedule', 3, 'value') -> 'schedule[3].value'."""
    out = ""
    for k in key_path:
        if isinstance(k, int):
            out += f"[{k}]"
        else:
            out += ("." if out else "") + str(k)
    return out or None




def shown_path(path: str | Path) -> str:
    """How messages name a file: a shipped one relative to the data root (the checkout, or
    game/_data in an installed wheel: short and the same on every machine), others as given."""
    try:
        return str(Path(path).resolve().relative_to(DATA_ROOT))
    except ValueError:
        return str(path)


def read_yaml(path: str | Path, display: str | None = None) -> YamlDoc:
    """Load a YAML file or raise InputError naming the file, the line and what is wrong."""
    shown = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem("file not found", file=shown)) from None
    except IsADirectoryError:
        raise InputError(Problem("is a directory, expected a YAML file", file=shown)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"cannot read file ({exc})", file=shown)) from None
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str) -> YamlDoc:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        msg = f"malformed YAML: {what}" + (f" ({context})" if context else "")
        raise InputError(Problem(msg, file=shown, line=line)) from None
    return YamlDoc(shown, data, root)
