"""The agents see the month through agents.context.MonthContext only: every attribute a phase
reads on the model is declared there, and the model provides all of them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import agents
from agents.context import MonthContext
from game.sim.model import ChipWarModel

AGENTS_DIR = Path(agents.__file__).resolve().parent
MESA_OWN = {"agents", "agents_by_type", "steps", "running"}  # Mesa's, used by Agent itself


def declared() -> set[str]:
    names = set(getattr(MonthContext, "__annotations__", {}))
    names |= {n for n, _ in inspect.getmembers(MonthContext) if not n.startswith("_")}
    return names


def used_by_agents() -> dict[str, list[str]]:
    """Every `model.X` and `self.model.X` the agents' modules read or write, with where."""
    out: dict[str, list[str]] = {}
    for path in sorted(AGENTS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            base = node.value
            is_model = (isinstance(base, ast.Name) and base.id == "model") or (
                isinstance(base, ast.Attribute)
                and base.attr == "model"
                and isinstance(base.value, ast.Name)
                and base.value.id == "self"
            )
            if is_model:
                out.setdefault(node.attr, []).append(f"{path.name}:{node.lineno}")
    return out


def test_agents_use_only_the_declared_context() -> None:
    undeclared = {k: v for k, v in used_by_agents().items() if k not in declared() | MESA_OWN}
    assert undeclared == {}, "declare these in agents/context.py or do not use them"


def test_the_check_sees_what_agents_use() -> None:
    used = used_by_agents()
    assert {"p", "rng", "view", "books", "apply", "news"} <= set(used)


def test_the_model_provides_the_whole_context() -> None:
    model = ChipWarModel("historical", rng=1, months=2)
    model.run()
    missing = [name for name in sorted(declared()) if not hasattr(model, name)]
    assert missing == []
