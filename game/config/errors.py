"""Errors a user can fix. They carry every problem found, each with its place, so that one run
of the loader tells an author all that is wrong with a file instead of one thing at a time."""

from __future__ import annotations

from dataclasses import dataclass

# The longest message one problem prints: a user's value quoted in it is cut (short) so that a
# huge value (a list expanded from aliases) never floods the terminal.
MAX_MESSAGE = 2000


def short(text: str, limit: int = 80) -> str:
    """Text cut to at most `limit` characters, for quoting a user's value in a message."""
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text):,} chars)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what was expected."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", short(str(self.message), MAX_MESSAGE))
        if self.key is not None:
            object.__setattr__(self, "key", short(str(self.key), 200))
        if self.file is not None:
            object.__setattr__(self, "file", short(str(self.file), 500))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.key) if p]
        return (": ".join(parts) + ": " if parts else "") + self.message


class InputError(Exception):
    """Bad input (a file, a command-line value, a command): the CLI prints it and exits 2."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class CommandError(InputError):
    """A lever change that the lever spec does not allow (unknown lever, wrong owner, bad value)."""
