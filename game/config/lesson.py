"""Lessons (lessons/*.yaml): a prepared game for a class, and the teacher's page that goes with it.

A lesson fixes what a teacher should not have to set up in front of a room: the scenario (a
shipped one or a lesson's own file in lessons/, which may extend one), the teams and their
order, how many months each team's turn lasts, how long the game runs, whether teams see each
other's decisions, the events the facilitator may inject, and the discussion questions the
debrief report ends with. The teacher's page (Markdown, beside the file) is for reading before
class: objectives, a 45-minute plan, what to notice, what the model leaves out.

    name: threshold_game
    title: "The threshold game"
    summary: "One line for `python main.py lessons`."
    scenario: historical          # a scenario name, or a file relative to the lesson
                                  # (lessons/scenarios/*.yaml, which may extend one)
    months: 36                    # optional: shorter than the scenario
    roles: [us, vendor]           # teams, in the order they play; bots play the rest
    difficulty: normal
    turn_months: 3                # months a team plays before handing over
    hidden: false                 # teams do not see each other's decisions until revealed
    events: [density_rule, hbm_ban]   # the facilitator's menu (default: every event)
    questions: ["...", "..."]     # for the discussion; the debrief report lists them
    teacher: threshold_game.md    # default: <name>.md
    seed: 2022
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from game.config.errors import InputError, Problem
from game.config.events import default_events
from game.config.paths import LESSON_DIR
from game.config.roles import default_roles
from game.config.scenario import Scenario, load_scenario, scenario_names
from game.config.validation import Strict, validate
from game.config.world import Text
from game.config.yamlfile import YamlDoc, read_yaml, shown_path

TEACHER_SECTIONS = (
    "Learning objectives",
    "45-minute plan",
    "Roles",
    "What students should notice",
    "Discussion questions",
    "What the model leaves out",
)


class LessonFile(Strict):
    name: Text
    title: Text
    summary: Text
    scenario: Text = "historical"
    months: Annotated[int, Field(ge=3, le=240)] | None = None
    roles: Annotated[list[Text], Field(min_length=1)]  # role ids (assets/data/roles.yaml)
    difficulty: Literal["easy", "normal", "hard"] = "normal"
    turn_months: Annotated[int, Field(ge=1, le=24)] = 3
    hidden: bool = False
    events: list[Text] | None = None
    questions: Annotated[list[Text], Field(min_length=1)]
    teacher: Text | None = None
    seed: Annotated[int, Field(ge=0)] = 2022
    # role -> goal numbers replacing those of assets/data/roles.yaml for this lesson's game
    # (its months and scenario set how far behind China starts and what a team can change)
    goals: dict[Text, dict[Text, float]] = {}


@dataclass(frozen=True)
class Lesson:
    """A checked lesson, ready to start: `GameSession.from_lesson(lesson)`."""

    spec: LessonFile
    path: Path
    scenario: Scenario

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def teacher_page(self) -> Path:
        return self.path.parent / (self.spec.teacher or f"{self.spec.name}.md")

    @property
    def events(self) -> list[str]:
        return list(self.spec.events) if self.spec.events is not None else list(default_events())

    @property
    def months(self) -> int:
        return self.spec.months or self.scenario.months

    def record(self) -> dict[str, Any]:
        """What a saved game keeps of its lesson, so its report needs no lesson file."""
        return {
            "name": self.name,
            "title": self.spec.title,
            "summary": self.spec.summary,
            "questions": list(self.spec.questions),
            "events": self.events,
            "teacher": shown_path(self.teacher_page),
            "goals": {r: dict(g) for r, g in self.spec.goals.items()},
        }


def lesson_names(folder: Path = LESSON_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def lesson_path(name_or_path: str, folder: Path = LESSON_DIR) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        return path
    if name_or_path not in lesson_names(folder):
        import difflib

        near = difflib.get_close_matches(name_or_path, lesson_names(folder), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise InputError(
            Problem(
                f"unknown lesson '{name_or_path}'{hint}; expected one of: "
                f"{', '.join(lesson_names(folder))} (see `python main.py lessons`)",
                key="--lesson",
            )
        )
    return folder / f"{name_or_path}.yaml"


def load_lesson(name_or_path: str, folder: Path = LESSON_DIR) -> Lesson:
    """Read and check a lesson: its scenario loads, its events exist, its page is there."""
    path = lesson_path(name_or_path, folder)
    doc = read_yaml(path, shown_path(path))
    spec = validate(doc, LessonFile)
    problems = _check(doc, spec, path)
    scenario = None
    if not problems:
        try:
            scenario = load_scenario(_scenario_ref(spec.scenario, path))
        except InputError as exc:
            if exc.problems[0].file is None:
                problems.append(doc.problem(("scenario",), exc.problems[0].message))
            else:
                raise
    if problems:
        raise InputError(problems)
    assert scenario is not None
    if spec.months is not None and spec.months > scenario.months:
        raise InputError(
            doc.problem(
                ("months",),
                f"expected at most the scenario's {scenario.months} months, got {spec.months}",
            )
        )
    return Lesson(spec, path, scenario)


def _scenario_ref(ref: str, lesson_file: Path) -> str:
    """A shipped scenario's name, or a YAML file relative to the lesson."""
    if ref in scenario_names():
        return ref
    return str(lesson_file.parent / ref)


def _check(doc: YamlDoc, spec: LessonFile, path: Path) -> list[Problem]:
    out: list[Problem] = []
    if spec.name != path.stem:
        out.append(doc.problem(("name",), f"expected the file's name '{path.stem}'"))
    if len(set(spec.roles)) != len(spec.roles):
        out.append(doc.problem(("roles",), f"each role can be played once, got {spec.roles}"))
    roles = default_roles()
    for i, role in enumerate(spec.roles):
        if role not in roles:
            out.append(
                doc.problem(
                    ("roles", i),
                    f"unknown role '{role}'; expected one of: {', '.join(roles)} "
                    "(assets/data/roles.yaml)",
                )
            )
    for role, numbers in spec.goals.items():
        if role not in spec.roles:
            out.append(
                doc.problem(
                    ("goals", role),
                    f"'{role}' is not a team of this lesson; expected one of: "
                    + ", ".join(spec.roles),
                )
            )
            continue
        goal = roles[role].goal
        for key in numbers:
            if key not in goal or isinstance(goal[key], str):
                numeric = [k for k, v in goal.items() if not isinstance(v, str)]
                out.append(
                    doc.problem(
                        ("goals", role, key),
                        f"'{key}' is not a number of the {role} role's goal; expected one of: "
                        + (", ".join(numeric) or "none (its goal is what it has without you)"),
                    )
                )
    known = default_events()
    for i, ev in enumerate(spec.events or []):
        if ev not in known:
            out.append(
                doc.problem(
                    ("events", i),
                    f"unknown event '{ev}'; expected one of: {', '.join(known)} "
                    "(assets/data/events.yaml)",
                )
            )
    page = path.parent / (spec.teacher or f"{spec.name}.md")
    if not page.is_file():
        out.append(
            doc.problem(
                ("teacher",) if spec.teacher else ("name",),
                f"the teacher's page {shown_path(page)} is missing",
            )
        )
    ref = spec.scenario
    if ref not in scenario_names() and not (path.parent / ref).is_file():
        out.append(
            doc.problem(
                ("scenario",),
                f"unknown scenario '{ref}'; expected one of: {', '.join(scenario_names())} "
                "or a file next to the lesson",
            )
        )
    return out
