"""Reading YAML safely and finding the line of any key path, for error messages.

Every YAML input passes here. The file is checked before it is opened (a regular file, at most
MAX_YAML_BYTES), then composed once with the safe loader into a node tree, which is checked
before any Python value is built: nesting at most MAX_DEPTH deep, no mapping with the same key
twice, and at most MAX_NODES nodes once every alias is expanded (a "billion laughs" file of a
few hundred bytes would otherwise expand to gigabytes). The values are then constructed from
that same tree by the safe constructor, and the tree gives the line of any key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from game.config.errors import InputError, Problem, short
from game.config.files import MAX_YAML_BYTES, check_input_file
from game.config.paths import DATA_ROOT

# Deepest nesting of mappings and lists (the shipped files go 5 deep).
MAX_DEPTH = 64
# Most nodes (keys, values, list items) a file may hold once its aliases are expanded; the
# largest shipped file has about 5,000.
MAX_NODES = 200_000


@dataclass
class YamlDoc:
    """A parsed YAML file: its data and its node tree, to point errors at lines."""

    path: str
    data: Any
    root: yaml.Node | None = field(default=None, repr=False)
    text: str = field(default="", repr=False)  # as read, for keeping with results

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


def read_text(path: str | Path, shown: str, what: str = "a YAML file") -> str:
    """A small text input file's contents, or InputError: checked before it is opened
    (check_input_file), then read as UTF-8."""
    check_input_file(path, shown, MAX_YAML_BYTES, what)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)  # bounded, should the file grow meanwhile
        if len(raw) > MAX_YAML_BYTES:
            raise InputError(
                Problem(f"the most {what} may hold is {MAX_YAML_BYTES:,} bytes", file=shown)
            )
        # newlines as text mode reads them (the experiment's digest was taken that way)
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(f"cannot read file (not UTF-8 text: {exc.reason})", file=shown)
        ) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file ({exc.strerror})", file=shown)) from None


def read_yaml(path: str | Path, display: str | None = None) -> YamlDoc:
    """Load a YAML file or raise InputError naming the file, the line and what is wrong."""
    shown = display or str(path)
    return parse_yaml(read_text(path, shown), shown)


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH while it composes (the composer
    recurses once per level: Python's recursion limit would end a deeper file in a
    traceback)."""

    def __init__(self, text: str, shown: str) -> None:
        super().__init__(text)
        self.shown = shown
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise InputError(
                Problem(
                    f"nested more than {MAX_DEPTH} levels deep; expected a flatter file",
                    file=self.shown,
                    line=mark.line + 1,
                )
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _yaml_problem(exc: yaml.YAMLError, shown: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    msg = f"malformed YAML: {what}" + (f" ({context})" if context else "")
    return InputError(Problem(short(msg, 300), file=shown, line=line))


def _check_tree(root: yaml.Node, shown: str) -> None:
    """No key twice in one mapping; at most MAX_NODES nodes with every alias expanded (an
    alias is the same node object as its anchor, so sizes are counted once per node and
    summed along references); no alias that contains itself."""
    size: dict[int, int] = {}
    active: set[int] = set()
    # iterative walk (a node tree may be as deep as MAX_DEPTH, and aliases make it a graph)
    stack: list[tuple[yaml.Node, tuple[Any, ...], bool]] = [(root, (), False)]
    while stack:
        node, path, done = stack.pop()
        nid = id(node)
        if done:
            active.discard(nid)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            size[nid] = total
            if total > MAX_NODES:
                raise InputError(
                    Problem(
                        f"expands to more than {MAX_NODES:,} values once its aliases (*name) "
                        "are expanded; expected a smaller file",
                        file=shown,
                        line=node.start_mark.line + 1,
                        key=key_string(path),
                    )
                )
            continue
        if nid in size:
            continue
        if nid in active:
            raise InputError(
                Problem(
                    "an alias (*name) refers to the value that contains it",
                    file=shown,
                    line=node.start_mark.line + 1,
                    key=key_string(path),
                )
            )
        active.add(nid)
        stack.append((node, path, True))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for k_node, v_node in node.value:
                if isinstance(k_node, yaml.ScalarNode) and k_node.tag != "tag:yaml.org,2002:merge":
                    k = (k_node.tag, k_node.value)
                    if k in seen:
                        raise InputError(
                            Problem(
                                f"duplicate key (first on line {seen[k]}); a key may appear "
                                "once in a mapping",
                                file=shown,
                                line=k_node.start_mark.line + 1,
                                key=key_string(path + (short(k_node.value, 60),)),
                            )
                        )
                    seen[k] = k_node.start_mark.line + 1
                    stack.append((v_node, path + (short(k_node.value, 60),), False))
                else:
                    stack.append((v_node, path, False))
                stack.append((k_node, path, False))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, path + (i,), False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml(text: str, shown: str) -> YamlDoc:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise InputError(
            Problem(
                f"is {len(text.encode('utf-8', 'surrogatepass')):,} bytes; the most a YAML "
                f"input may hold is {MAX_YAML_BYTES:,}",
                file=shown,
            )
        )
    loader = _Loader(text, shown)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDoc(shown, None, None, text)
        _check_tree(root, shown)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, shown) from None
    except RecursionError:
        raise InputError(
            Problem("nested too deeply to read; expected a flatter file", file=shown)
        ) from None
    finally:
        loader.dispose()
    return YamlDoc(shown, data, root, text)
