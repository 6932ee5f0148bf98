"""A game: the world, its ghost, the players' seats, their decisions, undo, hot-seat turns,
projections and save files. Headless, so every rule of play is tested without a window; the
pygame UI only calls these methods and reads `session.model`, `session.view`, `session.fan`.

Human roles replace the schedule of the actor they play: a government (or vendor, or lab)
played by a person decides for itself, so its dated changes in the scenario are dropped. The
governments nobody plays are bots: "easy" leaves them to the schedule, "normal" and "hard"
also let them react every quarter (agents/government.py).

The ghost is the same world, seed and bots without the players' decisions, stepped in
lockstep. Scores compare with it (game/play/objectives.py), so a score measures the player, not
the scenario.

Undo keeps a snapshot (game.state.snapshot) before each decision of the current month and
restores it, so an undone decision leaves no trace at all; a month played cannot be undone.
Restoring builds a new model object: the UI must read `session.model` / `session.view` from
the session every frame rather than keep its own reference.

Decisions' effects: with a Projector attached, every new state (after a decision or a month)
is projected in the background. A decision's effect is the change in projected end-of-game
median frontier capability per bloc between the state just before it and just after it, both
projected with the same seeds, so the difference is the decision's and not luck's. If the
player acts faster than projections arrive, the states still owed a projection ride along
with the next request (`extras`), so effects are filled in late rather than lost.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from game.config.commands import PolicyChange, check_change
from game.config.dates import format_month
from game.config.errors import CommandError, InputError, Problem
from game.config.events import default_events, event
from game.config.levers import LeverSpec, Value, default_policy_spec
from game.config.scenario import Scenario, ScheduledChange, load_scenario
from game.config.texts import text as tr
from game.config.world import WorldData, default_world_data
from game.play.objectives import DEFAULT_ROLE, ROLES, Role, Score
from game.play.objectives import score as score_role
from game.play.projection import Fan, Projector, Snapshot
from game.play.view import WorldView
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from game.sim.save_checks import (
    Where,
    check_change_plain,
    check_scenario,
    json_member,
    listing,
    mapping,
    month_text,
    number,
    read_members,
    text,
    whole,
)
from game.sim.state import FORMAT as MODEL_SAVE_FORMAT
from game.sim.state import (
    _arrays_bytes,
    checked_model,
    fork,
    read_save,
    restore,
    snapshot,
    write_save,
)

if TYPE_CHECKING:
    from game.config.lesson import Lesson

FORMAT = "silicon-curtain-game"
VERSION = 1
PAYLOAD = ("session.json", "model.json", "model.npz", "ghost.json", "ghost.npz")
BOT_FOR_DIFFICULTY = {"easy": "none", "normal": "reactive", "hard": "anticipating"}
# An order of a networked team: {"lever", "target", "value"}, or {"adopt": proposal number}
Order = dict[str, Any]
DEFAULT_TURN_MONTHS = 3  # a team's turn in hot seat: a quarter
MAX_EXTRA_STATES = 2  # states owed a projection sent along with one request (cost: 1 run each)
MAX_PENDING_DECISIONS = 4  # decisions whose effect we still try to measure
MAX_FANS_KEPT = 8
log = logging.getLogger(__name__)

# State versions are unique across all sessions of a process, so that one Projector (kept warm
# between games) never mixes up two games' states.
_versions = itertools.count(1)


@dataclass
class Decision:
    """One lever moved by a player. `date` is the month it takes effect (YYYY-MM). `effect`:
    change in projected end-of-scenario median frontier capability per bloc caused by it
    (positive: the bloc ends stronger), None until its projection arrives."""

    date: str
    role: str
    change: PolicyChange
    effect: dict[str, float] | None = None

    @property
    def magnitude(self) -> float:
        """The largest |effect| over blocs (0 while unknown): how much the decision mattered."""
        if not self.effect:
            return 0.0
        values = [abs(v) for v in self.effect.values() if math.isfinite(v)]
        return max(values, default=0.0)

    def to_plain(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "role": self.role,
            "change": self.change.to_plain(),
            "effect": None if self.effect is None else dict(self.effect),
        }

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Decision:
        effect = d.get("effect")
        return cls(
            date=str(d["date"]),
            role=str(d["role"]),
            change=PolicyChange.from_plain(d["change"]),
            effect=None if effect is None else {str(k): float(v) for k, v in effect.items()},
        )


@dataclass
class Proposal:
    """A step history took for an actor a person plays, offered to that player at its date:
    adopting it is a decision like any other; ignoring it keeps the policy as it is."""

    month: int  # when history took it (the month it would take effect)
    role: str
    change: PolicyChange
    news: str
    ignored: bool = False

    @property
    def date(self) -> str:
        return format_month(self.month)


def game_scenario(
    scenario: Scenario, roles: Sequence[str], difficulty: str, world: WorldData | None = None
) -> Scenario:
    """The scenario as the game runs it. An actor a person plays keeps what is in force when
    the game starts (its schedule's entries dated at the start: the October 2022 rule for the
    US in the historical scenario); its later entries are left to the person, who gets them as
    proposals at their dates (`proposals_for`). Every government gets its bot strategy: none
    for a human's, else by difficulty (easy: schedule only; normal and hard: reactive)."""
    world = world or default_world_data()
    humans = {ROLES[r].actor for r in roles}
    schedule = tuple(s for s in scenario.schedule if s.change.actor not in humans)
    # ... and sees it before the first month: set from the start, so that nothing scheduled
    # later overwrites what the player decides before the first month is played.
    inherited = tuple(s.change for s in inherited_entries(scenario, roles))
    bot = BOT_FOR_DIFFICULTY[difficulty]
    bots = {g.id: ("none" if g.id in humans else bot) for g in world.governments}
    return dataclasses.replace(
        scenario, schedule=schedule, bots=bots, initial=inherited + scenario.initial
    )


def inherited_entries(scenario: Scenario, roles: Sequence[str]) -> list[ScheduledChange]:
    """The schedule's entries dated at the start for the actors people play: the rules those
    actors have in force when the game begins (game_scenario sets them before the first
    month; the news and the comparison world name them)."""
    humans = {ROLES[r].actor for r in roles}
    return [
        s for s in scenario.schedule if s.change.actor in humans and s.month <= scenario.start
    ]


def proposals_for(scenario: Scenario, roles: Sequence[str]) -> list[Proposal]:
    """History's later steps for the actors people play (game_scenario leaves them out), in
    date order: what 'doing nothing' declines, and what a player may adopt."""
    by_actor = {ROLES[r].actor: r for r in roles}
    return [
        Proposal(s.month, by_actor[s.change.actor], s.change, s.news or "")
        for s in scenario.schedule
        if s.change.actor in by_actor and s.month > scenario.start
    ]


def _check_setup(roles: Sequence[str], difficulty: str) -> list[str]:
    if isinstance(roles, str):
        raise ValueError(f"roles must be a list of role ids, got the string {roles!r}")
    roles = list(roles)
    if not 1 <= len(roles) <= len(ROLES):
        raise ValueError(f"expected 1 to {len(ROLES)} roles, got {len(roles)}")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role '{unknown[0]}'; expected one of: {', '.join(ROLES)}")
    if len(set(roles)) != len(roles):
        raise ValueError(f"each role can be played once, got {roles}")
    if difficulty not in BOT_FOR_DIFFICULTY:
        raise ValueError(
            f"unknown difficulty '{difficulty}'; expected one of: {', '.join(BOT_FOR_DIFFICULTY)}"
        )
    return roles


def _plain_value(value: Any) -> Value:
    """numpy scalars from sliders and tables -> Python values (the command log is JSON)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _same_value(now: Any, new: Any) -> bool:
    """A lever's value in force and a new one are the same setting (numbers by value)."""
    if isinstance(now, bool) or isinstance(new, bool):
        return now == new
    if isinstance(now, int | float) and isinstance(new, int | float):
        return float(now) == float(new)
    return str(now) == str(new)


def _owner_name(owner: str) -> str:
    """Whose lever it is, in words ('the US government', 'a chip vendor')."""
    return next((r.owner_name for r in ROLES.values() if r.owner == owner), owner)


def _role_of(actor: str) -> str | None:
    return next((r.id for r in ROLES.values() if r.actor == actor), None)


class GameSession:
    """One game: see the module docstring for the rules it keeps."""

    model: ChipWarModel
    ghost: ChipWarModel
    view: WorldView
    roles: list[str]
    current_role: str
    difficulty: str
    handoff_due: bool
    decisions: list[Decision]
    fan: Fan | None

    def __init__(
        self,
        scenario: str | Scenario = "historical",
        roles: Sequence[str] | None = None,  # default: the first role in roles.yaml
        difficulty: str = "normal",
        rng: int = 2022,
        *,
        months: int | None = None,
        turn_months: int = DEFAULT_TURN_MONTHS,
        hidden: bool = False,
        lesson: dict[str, Any] | None = None,
    ) -> None:
        roles = _check_setup([DEFAULT_ROLE] if roles is None else roles, difficulty)
        if not 1 <= int(turn_months) <= 24:
            raise ValueError(f"turn_months must be 1 to 24, got {turn_months}")
        chosen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        model = ChipWarModel(game_scenario(chosen, roles, difficulty), rng=int(rng), months=months)
        self._setup(chosen, roles, difficulty, int(rng), model, fork(model))
        self._announce_inherited()
        self.turn_months = int(turn_months)
        self.hidden = bool(hidden)
        self.lesson = dict(lesson) if lesson else None

    @classmethod
    def from_lesson(
        cls, lesson: Lesson, difficulty: str | None = None, rng: int | None = None
    ) -> GameSession:
        """A lesson's game: its scenario, teams in order, turn length, horizon and secrecy."""
        spec = lesson.spec
        return cls(
            lesson.scenario,
            list(spec.roles),
            difficulty or spec.difficulty,
            spec.seed if rng is None else rng,
            months=lesson.months,
            turn_months=spec.turn_months,
            hidden=spec.hidden,
            lesson=lesson.record(),
        )

    def _setup(
        self,
        scenario: Scenario,
        roles: list[str],
        difficulty: str,
        rng: int,
        model: ChipWarModel,
        ghost: ChipWarModel,
    ) -> None:
        self.scenario = scenario  # as chosen; the model runs game_scenario(scenario, ...)
        self.roles = list(roles)
        self.difficulty = difficulty
        self.rng = rng
        self.model, self.ghost = model, ghost
        self.view = WorldView(model)
        self.ghost_view = WorldView(ghost)  # the world without the players' decisions
        self.current_role = self.roles[0]
        self.handoff_due = False
        self.decisions = []
        self.turn_months = DEFAULT_TURN_MONTHS
        self.hidden = False
        self.lesson: dict[str, Any] | None = None
        self.injected: list[dict[str, str]] = []  # facilitator events: date, id, name, headline
        self.proposals = proposals_for(scenario, roles)
        self.fan = None
        self._fan_version: int | None = None  # the state `fan` projects
        self.projector: Projector | None = None
        self._version = next(_versions)  # names the model's current state
        self._undo: list[int] = []  # versions before each decision of this month
        self._snaps: dict[int, Snapshot] = {}  # version -> snapshot (undo points, owed states)
        self._links: list[tuple[int, int]] = []  # per decision: (version before, after)
        self._ends: dict[int, dict[str, float]] = {}  # version -> projected end medians
        self._fans: dict[int, Fan] = {}  # version -> its fan (for undo)
        self._requests: dict[int, int] = {}  # projector request id -> version projected
        self._undone: dict[int, None] = {}  # versions undone (their fans are never shown)
        self._score_cache: dict[str, Score] = {}

    # ------------------------------------------------------------------ seats
    @property
    def role(self) -> Role:
        """The Role of the player deciding now (with this game's goal numbers)."""
        return self.role_of(self.current_role)

    def next_player(self) -> str:
        """Hand over to the next team (hot-seat); returns its role id."""
        i = self.roles.index(self.current_role)
        self.current_role = self.roles[(i + 1) % len(self.roles)]
        self.handoff_due = False
        return self.current_role

    @property
    def finished(self) -> bool:
        """The world has reached the scenario's last month."""
        return self.model.turn >= self.model.horizon

    # ------------------------------------------------------------------ levers
    def levers(self, role_id: str | None = None) -> list[LeverSpec]:
        """The levers a role (default: the current one) may move, in the lever spec's order."""
        role = ROLES[role_id or self.current_role]
        return [lv for lv in self.model.spec.levers.values() if lv.owner == role.owner]

    def lever_targets(self, lever: str, role_id: str | None = None) -> list[str]:
        """What a role may set `lever` for ([] for a lever without target): a vendor only for
        itself and its own chips, a lab only for itself, a government for any of its kind."""
        role = ROLES[role_id or self.current_role]
        spec = self._spec(lever)
        m = self.model
        if spec.target == "none":
            return []
        if spec.target == "country":
            return m.world.own_countries(spec.owner) or list(m.country_ids)
        if spec.target in ("lab", "vendor") and role.owner == spec.owner:
            return [role.actor]
        if spec.target == "lab":
            return [lab.id for lab in m.world.labs]
        if spec.target == "vendor":
            return list(m.vendor_ids)
        chips = m.chips.known_ids()
        if role.owner == "vendor":
            mine = m.vendor_ids.index(role.actor) if role.actor in m.vendor_ids else -1
            return [c for c in chips if int(m.chips.vendor[m.chips.index(c)]) == mine]
        return chips

    def lever_rows(self, lever: str, role_id: str | None = None) -> list[tuple[str | None, str]]:
        """The lines a role's lever panel shows for a lever: (target id, label), or one
        (None, lever name) for a lever without target. Narrower than lever_targets where a
        choice would do nothing: no destination tier for the controller's own country,
        pressure only on transit countries, the entity list only for foreign frontier labs,
        a vendor's variants only while not yet launched, chip exports only for controlled
        chips on sale."""
        spec = self._spec(lever)
        m = self.model
        if spec.target == "none":
            return [(None, spec.name)]
        allowed = set(self.lever_targets(lever, role_id))
        if spec.target == "country":
            home = m.world.government_on("controller").country
            rows = [
                (c, name)
                for i, (c, name) in enumerate(zip(m.country_ids, m.country_names, strict=True))
                if c != home and c in allowed and (lever != "transit_pressure" or m.transit[i])
            ]
            return rows
        if spec.target == "lab":
            labs = m.labs
            return [
                (lab_id, name)
                for i, (lab_id, name) in enumerate(zip(labs.ids, labs.names, strict=True))
                if lab_id in allowed
                and (spec.owner == "lab" or (labs.bloc[i] != m.us_bloc and labs.frontier[i]))
            ]
        if spec.target == "vendor":
            return [(v.vendor_id, v.name) for v in m.vendors if v.vendor_id in allowed]
        chips = m.chips
        if spec.owner == "vendor":  # launch a catalogue variant of one's own
            return [
                (chips.ids[i], chips.ids[i])
                for i in range(chips.n_catalogue)
                if chips.ids[i] in allowed
                and chips.variant_of[i] >= 0
                and chips.available_from[i] > m.month
            ]
        on_sale = chips.on_sale(m.month) & m.view.subject
        return [(chips.ids[i], chips.ids[i]) for i in range(len(chips)) if on_sale[i]]

    def _spec(self, lever: str) -> LeverSpec:
        spec = self.model.spec.levers.get(lever)
        if spec is None:
            raise CommandError(
                Problem(
                    f"unknown lever '{lever}'; expected one of: "
                    + ", ".join(self.model.spec.levers),
                    key=lever,
                )
            )
        return spec

    def _target(self, spec: LeverSpec, target: str | None, role: Role | None = None) -> str | None:
        """A vendor's or lab's own lever defaults to the player's own company."""
        role = role or self.role
        if target is None and spec.target in ("vendor", "lab") and spec.owner == role.owner:
            return role.actor
        return target

    def lever_value(self, lever: str, target: str | None = None) -> Any:
        """The lever's value in force now (for the current role's company if it needs one)."""
        spec = self._spec(lever)
        return self.model.policy.get(lever, self._target(spec, target))

    def decide(self, lever: str, value: Value, target: str | None = None) -> None:
        """The current role moves a lever from next month on. Raises CommandError for another
        role's lever or a value the lever spec refuses (nothing changes then)."""
        if self.finished:
            raise RuntimeError("the game is over: no more decisions")
        if self.handoff_due:
            raise RuntimeError("the turn is over: hand over with next_player() first")
        role = self.role
        change = self._checked_change(role, lever, value, target)
        if self._moves_again(change, role.id):
            self.undo()  # the same lever moved again this month: one decision, the last value
        if _same_value(self.model.policy.get(change.lever, change.target), change.value):
            return  # nothing would change (a lever moved back where it was): no decision
        before = self._version
        self._current_snapshot()  # the undo point
        self.model.apply(change, source="player")
        self._undo.append(before)
        self._version = next(_versions)
        effective = format_month(self.model.command_log[-1][0])
        self.decisions.append(Decision(effective, role.id, change))
        self._links.append((before, self._version))
        self._request_projection()

    def _checked_change(
        self, role: Role, lever: str, value: Value, target: str | None
    ) -> PolicyChange:
        """The change a role's order stands for, or CommandError: another role's lever, or a
        value or target the lever spec refuses."""
        spec = self._spec(lever)
        if spec.owner != role.owner:
            raise CommandError(
                Problem(
                    f"'{lever}' belongs to {_owner_name(spec.owner)}, not to your role "
                    f"({role.name}); your levers: "
                    + ", ".join(lv.id for lv in self.levers(role.id)),
                    key=f"{role.id}: {lever}",
                )
            )
        target = self._target(spec, target, role)
        change = PolicyChange(role.actor, lever, _plain_value(value), target)
        errs = check_change(
            change, self.model.spec, self.model.world, chip_ids=self.model.chips.known_ids()
        )
        if errs:
            raise CommandError([Problem(msg, key=f"{change}: {key}") for key, msg in errs])
        return change

    # ------------------------------------------------------------------ simultaneous turns
    def check_orders(self, role_id: str, orders: Sequence[Mapping[str, Any]]) -> list[Order]:
        """A team's orders as `resolve_turn` will apply them, checked now so that a bad one is
        refused when it is sent rather than when the turn resolves: each `{"lever", "target",
        "value"}` or `{"adopt": PROPOSAL_NUMBER}` (its index in `proposals`, due for the
        team). A later order for the same lever and target replaces an earlier one. Raises
        CommandError; changes nothing."""
        if role_id not in self.roles:
            raise CommandError(
                Problem(f"'{role_id}' is not a team of this game: {', '.join(self.roles)}")
            )
        role = self.role_of(role_id)
        kept: dict[tuple[str, str | None], Order] = {}
        for order in orders:
            if "adopt" in order:
                number = order["adopt"]
                due = self.due_proposals(role_id)
                if (
                    isinstance(number, bool)
                    or not isinstance(number, int)
                    or not 0 <= number < len(self.proposals)
                    or self.proposals[number] not in due
                ):
                    raise CommandError(
                        Problem(
                            f"proposal {number!r} is not one due for {role.name}; due: "
                            + (", ".join(str(self.proposals.index(p)) for p in due) or "none"),
                            key="adopt",
                        )
                    )
                c = self.proposals[number].change
                kept[(c.lever, c.target)] = {"adopt": number}
                continue
            lever, target = order.get("lever"), order.get("target")
            if not isinstance(lever, str) or not (target is None or isinstance(target, str)):
                raise CommandError(Problem("expected a lever id and a target id or null"))
            change = self._checked_change(role, lever, order.get("value"), target)
            if change.target is not None and change.target not in self.lever_targets(
                lever, role_id
            ):
                raise CommandError(
                    Problem(
                        f"{role.name} cannot set '{lever}' for '{change.target}'; expected one "
                        "of: " + ", ".join(self.lever_targets(lever, role_id)),
                        key=lever,
                    )
                )
            kept[(lever, change.target)] = {
                "lever": lever,
                "target": change.target,
                "value": change.value,
            }
        return list(kept.values())

    def resolve_turn(
        self, orders_by_role: Mapping[str, Sequence[Mapping[str, Any]]]
    ) -> list[Decision]:
        """A networked class's turn, where the teams wrote their orders at the same time: every
        team's orders are checked before anything changes (CommandError, nothing applied),
        then applied team by team in the game's team order, then the turn's months are played
        (`turn_months`, or up to the end). The same orders on the same game give the same
        world. Returns the decisions made."""
        if self.finished:
            raise RuntimeError("the game is over")
        unknown = [r for r in orders_by_role if r not in self.roles]
        if unknown:
            raise CommandError(
                Problem(f"'{unknown[0]}' is not a team of this game: {', '.join(self.roles)}")
            )
        checked = {r: self.check_orders(r, orders_by_role.get(r, ())) for r in self.roles}
        first = len(self.decisions)
        self.handoff_due = False
        for role_id in self.roles:
            self.current_role = role_id
            for order in checked[role_id]:
                if "adopt" in order:
                    self.adopt(self.proposals[order["adopt"]])
                else:
                    self.decide(order["lever"], order["value"], order["target"])
        for _ in range(min(self.turn_months, self.model.horizon - self.model.turn)):
            self.handoff_due = False
            self.step()
        self.handoff_due = False
        self.current_role = self.roles[0]
        return self.decisions[first:]

    def _announce_inherited(self) -> None:
        """The headlines of the rules a played actor inherits, in the first month's news: what
        history's entries would have said, marked as in force from the start (in both worlds:
        without decisions they are the same)."""
        for s in inherited_entries(self.scenario, self.roles):
            text = s.news or self.model.names.news(s.change)
            for world in (self.model, self.ghost):
                world.news(
                    "policy",
                    tr("news_in_force_at_start", news=text),
                    [s.change.actor],
                    month=self.scenario.start,
                )

    # ------------------------------------------------------------------ history's proposals
    def adopted(self, proposal: Proposal) -> bool:
        """A decision of the game sets exactly what history did (the proposal adopted, or the
        same move made by hand)."""
        return any(d.role == proposal.role and d.change == proposal.change for d in self.decisions)

    def due_proposals(self, role_id: str | None = None) -> list[Proposal]:
        """History's steps for a role (default: the one deciding now) whose date has come (a
        decision made now takes effect next month) and that the role has neither adopted nor
        ignored, nor has in force already."""
        role = role_id or self.current_role
        coming = self.model.month + 1
        return [
            p
            for p in self.proposals
            if p.role == role
            and p.month <= coming
            and not p.ignored
            and not self.adopted(p)
            and not _same_value(
                self.model.policy.get(p.change.lever, p.change.target), p.change.value
            )
        ]

    def adopt(self, proposal: Proposal) -> None:
        """Take history's step now, as the role's own decision (undo takes it back)."""
        if proposal.role != self.current_role:
            raise CommandError(
                Problem(f"this proposal is for {ROLES[proposal.role].name}", key=proposal.role)
            )
        c = proposal.change
        self.decide(c.lever, c.value, c.target)

    def ignore(self, proposal: Proposal) -> None:
        """Decline history's step: it is not offered again (the lever stays the player's)."""
        proposal.ignored = True

    def comparison_world(self) -> str:
        """What the scores, charts and report compare the game with, in words: the rules the
        played actors had in force at the start, kept; history's later steps for them, not
        taken (doing nothing declines every proposal)."""
        mine = {ROLES[r].actor for r in self.roles}
        names = self.model.names
        inherited = [
            s.news or names.news(s.change) for s in inherited_entries(self.scenario, self.roles)
        ] + [names.news(c) for c in self.scenario.initial if c.actor in mine]
        kept = (
            tr("comparison_kept", rules="; ".join(inherited))
            if inherited
            else tr("comparison_untouched")
        )
        if not self.proposals:
            return kept
        whose = tr("comparison_whose_one" if len(self.roles) == 1 else "comparison_whose_teams")
        adopted = sum(self.adopted(p) for p in self.proposals)
        return tr(
            "comparison_with_proposals",
            kept=kept,
            n=len(self.proposals),
            whose=whose,
            adopted=adopted,
        )

    def _moves_again(self, change: PolicyChange, role: str) -> bool:
        """The decision just before this one, this month and by the same role, moved the same
        lever (and target): four clicks on a slider's arrow are one decision, not four news
        items, four report rows and four replays."""
        if not self._undo or not self.decisions:
            return False
        last = self.decisions[-1]
        return (
            last.role == role
            and last.change.lever == change.lever
            and last.change.target == change.target
        )

    # ------------------------------------------------------------------ undo
    def can_undo(self) -> bool:
        """A decision of this month can still be taken back."""
        return bool(self._undo)

    def undo(self) -> bool:
        """Take back the last decision of this month: the world is restored exactly as it was
        before it. False if there is none (a month played cannot be undone)."""
        if not self._undo:
            return False
        before = self._undo.pop()
        old = self.model
        self.model = restore(*self._snaps[before])
        self.view = WorldView(self.model)
        forget(old)  # Mesa 3.3 would keep the discarded world alive
        self.decisions.pop()
        _, after = self._links.pop()
        self._snaps.pop(after, None)
        self._undone[after] = None
        while len(self._undone) > 64:
            self._undone.pop(next(iter(self._undone)))
        self._version = before
        self._score_cache.clear()
        if before in self._fans:
            self.fan, self._fan_version = self._fans[before], before
        else:
            self._request_projection()
        return True

    # ------------------------------------------------------------------ time
    def step(self) -> None:
        """Play one month in the world and its ghost. Decisions of the month become final (no
        undo). With several teams, a month that ends a team's turn (every `turn_months`)
        makes `handoff_due` True."""
        if self.handoff_due:
            raise RuntimeError("the turn is over: hand over with next_player() first")
        if self.finished:
            raise RuntimeError("the game is over")
        self.model.step()
        self.ghost.step()
        self._undo.clear()
        self._version = next(_versions)
        self._score_cache.clear()
        self._prune()
        if len(self.roles) > 1 and not self.finished and self.model.turn % self.turn_months == 0:
            self.handoff_due = True
        self._request_projection()

    # ------------------------------------------------------------------ the facilitator
    @property
    def allowed_events(self) -> list[str]:
        """The events the facilitator may inject: the lesson's menu, or every event."""

        if self.lesson and self.lesson.get("events") is not None:
            return list(self.lesson["events"])
        return list(default_events())

    def inject(self, event_id: str) -> None:
        """A facilitator's event, from next month on, in the world and in its ghost alike (the
        comparison stays about the players). It cannot be undone, and it ends the undo of the
        decisions made before it: an undo would otherwise take the event back with them."""

        if self.finished:
            raise RuntimeError("the game is over: no more events")
        ev = event(event_id)
        if event_id not in self.allowed_events:
            raise CommandError(
                Problem(
                    f"event '{event_id}' is not in this lesson; expected one of: "
                    + ", ".join(self.allowed_events),
                    key="event",
                )
            )
        self.model.inject(ev)
        self.ghost.inject(ev)
        self.injected.append(
            {
                "date": format_month(self.model.month + 1),
                "id": ev.id,
                "name": ev.name,
                "headline": ev.headline,
            }
        )
        self._undo.clear()
        self._version = next(_versions)
        self._score_cache.clear()
        self._prune()
        self._request_projection()

    def set_hidden(self, hidden: bool) -> None:
        """Hide (or reveal) the teams' decisions from each other: the news and the decision
        lists show a team only its own decisions while hidden."""
        self.hidden = bool(hidden)

    def visible(self, role_id: str | None = None) -> set[str]:
        """The actors whose decisions a team may see: all, unless hidden (then its own and the
        bots')."""
        rid = role_id or self.current_role
        humans = {ROLES[r].actor for r in self.roles}
        if not self.hidden:
            return set()  # empty: nothing is masked
        return humans - {ROLES[rid].actor}

    def news(self, n: int, role_id: str | None = None) -> list[dict[str, Any]]:
        """The latest n news items as the current team may see them: while hidden, another
        team's decisions read 'a decision (hidden)'."""
        masked = self.visible(role_id)
        items = self.view.news(n)
        if not masked:
            return items
        out = []
        for item in items:
            if item.get("kind") == "policy" and set(item.get("actors", [])) & masked:
                actor = next(iter(set(item["actors"]) & masked))
                rid = _role_of(actor)
                who = ROLES[rid].name if rid else actor
                text = tr("news_hidden_decision", who=who)
                item = {**item, "text": text}
            out.append(item)
        return out

    def decisions_seen(self, role_id: str | None = None) -> list[Decision]:
        """The decisions the current team may see (all, unless hidden)."""
        rid = role_id or self.current_role
        if not self.hidden:
            return list(self.decisions)
        return [d for d in self.decisions if d.role == rid]

    # ------------------------------------------------------------------ scores
    def role_of(self, role_id: str | None = None) -> Role:
        """A role as this game plays it (default: the current role): a lesson may set its own
        goal numbers, and the objective then quotes them."""
        rid = role_id or self.current_role
        goals = (self.lesson or {}).get("goals") or {}
        return ROLES[rid].with_goal(goals.get(rid, {}))

    def score(self, role_id: str | None = None) -> Score:
        """A role's score now (default: the current role); see game/play/objectives.py."""
        rid = role_id or self.current_role
        if rid not in self._score_cache:
            self._score_cache[rid] = score_role(rid, self.model, self.ghost, self.role_of(rid))
        return self._score_cache[rid]

    def decisions_that_mattered(self, n: int = 5) -> list[Decision]:
        """The decisions with the largest known effect first (largest |effect| over blocs);
        decisions whose effect is unknown are left out."""
        known = [d for d in self.decisions if d.effect]
        return sorted(known, key=lambda d: d.magnitude, reverse=True)[:n]

    # ------------------------------------------------------------------ projections
    def attach_projector(self, projector: Projector | None) -> None:
        """Project every new state with `projector` from now on (None: stop); projects the
        current state at once."""
        self.projector = projector
        self._request_projection()

    @property
    def fan_is_current(self) -> bool:
        """`fan` projects the state the world is in now (not an earlier month's, kept on the
        screen while this one is computed)."""
        return self.fan is not None and self._fans.get(self._version) is self.fan

    @property
    def fan_pending(self) -> bool:
        """A projection of the current state has been asked for and has not arrived (or only
        its first look has)."""
        return self._version in self._requests.values()

    def _current_snapshot(self) -> Snapshot:
        if self._version not in self._snaps:
            self._snaps[self._version] = snapshot(self.model)
        return self._snaps[self._version]

    def _owed(self) -> list[int]:
        """States whose projected end is still needed for a decision's effect, newest first."""
        out: list[int] = []
        pending = [
            link for d, link in zip(self.decisions, self._links, strict=True) if d.effect is None
        ][-MAX_PENDING_DECISIONS:]
        for before, after in reversed(pending):
            for v in (after, before):
                if v not in self._ends and v in self._snaps and v not in out:
                    out.append(v)
        return out

    def _prune(self) -> None:
        keep = {self._version, *self._undo, *self._owed()}
        for v in [v for v in self._snaps if v not in keep]:
            del self._snaps[v]

    def _request_projection(self) -> None:
        projector = self.projector
        if projector is None or self.finished or getattr(projector, "closed", False):
            return
        main = self._current_snapshot()
        extras = {v: self._snaps[v] for v in self._owed() if v != self._version}
        extras = dict(list(extras.items())[:MAX_EXTRA_STATES])
        try:
            rid = projector.request(main, key=self._version, extras=extras)
        except Exception as exc:  # the decision or month stands; only its projection is lost
            log.warning("projection request failed: %s: %s", type(exc).__name__, exc)
            return
        self._requests[rid] = self._version
        while len(self._requests) > 16:
            self._requests.pop(next(iter(self._requests)))

    def poll_projection(self) -> Fan | None:
        """Non-blocking (call every frame): the projection of the current state if it has just
        arrived (also stored as `session.fan`), or of an earlier state if the world has moved
        on since it was asked and nothing newer is shown (see _moved_on_from), else None.
        Fills in decisions' effects as the projections they need arrive."""
        if self.projector is None:
            return None
        fan = self.projector.poll()
        for key, ends in self.projector.take_ends().items():
            if isinstance(key, int):
                self._ends[key] = ends
        while len(self._ends) > 64:
            self._ends.pop(next(iter(self._ends)))
        self._fill_effects()
        if fan is None:
            return None
        # a first look (Fan.complete False) leaves the request open: its whole fan follows
        requests = self._requests
        version = requests.pop(fan.request_id, None) if fan.complete else requests.get(
            fan.request_id
        )
        if version is None:
            return None
        self._fans[version] = fan
        while len(self._fans) > MAX_FANS_KEPT:
            self._fans.pop(next(iter(self._fans)))
        if version != self._version and not self._moved_on_from(version):
            return None
        self.fan, self._fan_version = fan, version
        return fan

    def _moved_on_from(self, version: int) -> bool:
        """`version` is an earlier state of this line of play (not one undone), no older than
        the fan on screen: its fan is shown, labelled as projected from its month, while the
        current state's is computed (a game at speed moves on faster than fans arrive)."""
        shown = self._fan_version
        return (
            version < self._version
            and version not in self._undone
            and (shown is None or version >= shown)  # the same state's whole fan: its first look
        )

    def _fill_effects(self) -> None:
        filled = False
        for d, (before, after) in zip(self.decisions, self._links, strict=True):
            if d.effect is None and before in self._ends and after in self._ends:
                pre, post = self._ends[before], self._ends[after]
                d.effect = {b: post[b] - pre[b] for b in post if b in pre}
                filled = True
        if filled:
            self._prune()

    # ------------------------------------------------------------------ save and load
    def _session_plain(self) -> dict[str, Any]:
        return {
            "roles": list(self.roles),
            "current_role": self.current_role,
            "difficulty": self.difficulty,
            "handoff_due": self.handoff_due,
            "rng": self.rng,
            "scenario": self.scenario.to_plain(),
            "decisions": [d.to_plain() for d in self.decisions],
            "turn_months": self.turn_months,
            "hidden": self.hidden,
            "lesson": self.lesson,
            "injected": list(self.injected),
            "proposals_ignored": [i for i, p in enumerate(self.proposals) if p.ignored],
        }

    def save(self, path: str | Path) -> None:
        """Write the game to `path` whole or not at all (temporary file, then rename): a
        failed save leaves an existing save as it was. Undo points and projections are not
        saved: a loaded game starts its month with nothing to undo."""
        self.saver()(path)

    def saver(self) -> Callable[[str | Path], None]:
        """The game as it is now, written later by the function returned (as `save` writes
        it). Only the copy is made here (about 1 ms, between months); the slow part (JSON,
        compression, the disk: 30-50 ms) is the call's, which may run in another thread while
        the game goes on: the copy shares nothing the game changes (undo and projections rely
        on the same snapshots)."""
        plain = self._session_plain()
        mplain, marrays = snapshot(self.model)
        gplain, garrays = snapshot(self.ghost)
        info = {
            "scenario": self.scenario.name,
            "date": self.model.date,
            "turn": self.model.turn,
            "roles": list(self.roles),
            "difficulty": self.difficulty,
            # for a list of saves without opening them (the title screen's Continue)
            "horizon": self.model.horizon,
            "current_role": self.current_role,
            "lesson": (self.lesson or {}).get("name"),
            "lesson_title": (self.lesson or {}).get("title"),
        }

        def write(path: str | Path) -> None:
            entries = {
                "session.json": json.dumps(plain).encode(),
                "model.json": json.dumps(mplain).encode(),
                "model.npz": _arrays_bytes(marrays),
                "ghost.json": json.dumps(gplain).encode(),
                "ghost.npz": _arrays_bytes(garrays),
            }
            write_save(path, FORMAT, VERSION, entries, info, what="game")

        return write

    @staticmethod
    def peek(path: str | Path) -> dict[str, Any]:
        """What a game save says about itself (scenario, date, turn, horizon, roles, lesson)
        without restoring it: its meta.json, checked no further than being a game save.
        Raises InputError for a file that is not one."""
        try:
            entries, _ = read_members(path, ("meta.json",), str(path), "game save")
            meta = json.loads(entries["meta.json"])
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
            raise InputError(
                Problem(f"not a Silicon Curtain game save ({type(exc).__name__})", file=str(path))
            ) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InputError(Problem("not a Silicon Curtain game save", file=str(path)))
        return meta

    @classmethod
    def load(cls, path: str | Path) -> GameSession:
        """Read a game saved by `save`. Raises InputError naming the file and what is wrong
        with it: missing, not a game save, damaged, or from an unsupported version."""
        path = Path(path)

        def bad(msg: str) -> InputError:
            return InputError(Problem(msg, file=str(path)))

        entries = read_save(
            path,
            FORMAT,
            VERSION,
            PAYLOAD,
            what="game save",
            others={MODEL_SAVE_FORMAT: "a saved model (ChipWarModel.save)"},
        )
        shown = str(path)
        where = Where(shown, "session.json")
        plain = json_member(where, entries["session.json"])
        _check_session(where, plain)
        worlds = [
            checked_model(entries, f"{n}.json", f"{n}.npz", shown) for n in ("model", "ghost")
        ]
        _check_worlds(where, plain, worlds[0], worlds[1])
        try:
            session = cls.__new__(cls)
            session._setup(
                Scenario.from_plain(plain["scenario"]),
                list(plain["roles"]),
                str(plain["difficulty"]),
                int(plain["rng"]),
                worlds[0],
                worlds[1],
            )
            session.current_role = str(plain["current_role"])
            session.handoff_due = bool(plain["handoff_due"])
            session.decisions = [Decision.from_plain(d) for d in plain["decisions"]]
            session.turn_months = int(plain.get("turn_months", DEFAULT_TURN_MONTHS))
            session.hidden = bool(plain.get("hidden", False))
            session.lesson = plain.get("lesson")
            session.injected = [dict(x) for x in plain.get("injected", [])]
            for i in plain.get("proposals_ignored", []):
                session.proposals[int(i)].ignored = True
            # Effects still unknown cannot be measured any more (their states are gone).
            session._links = [(-1, -1)] * len(session.decisions)
        except Exception as exc:  # a session the checks above let through
            raise bad(
                f"the game save cannot be restored by this build ({type(exc).__name__}: {exc})"
            ) from None
        return session


# ----------------------------------------------------------------------------- checking a save
_SESSION_KEYS = (
    "roles",
    "current_role",
    "difficulty",
    "handoff_due",
    "rng",
    "scenario",
    "decisions",
    "turn_months",
    "hidden",
    "lesson",
    "injected",
    "proposals_ignored",
)


def _check_session(where: Where, plain: Any) -> None:
    """A saved session's own values (session.json), before its worlds are built: the same
    rules as a new game's setup, the scenario as a scenario file is checked."""
    if not mapping(where, "", plain):
        where.raise_if_any()
    optional = {"turn_months", "hidden", "lesson", "injected", "proposals_ignored"}
    extra = sorted(set(plain) - set(_SESSION_KEYS))
    missing = sorted(set(_SESSION_KEYS) - optional - set(plain))
    if extra:
        where.add(extra[0], f"unknown key; expected one of: {', '.join(_SESSION_KEYS)}")
    if missing:
        where.add(missing[0], "missing required key")
    where.raise_if_any()
    roles = plain["roles"]
    if not listing(where, "roles", roles):
        pass
    elif not all(isinstance(r, str) for r in roles):
        where.add("roles", f"expected a list of role ids ({', '.join(ROLES)})")
    else:
        try:
            _check_setup(roles, plain["difficulty"] if isinstance(plain["difficulty"], str) else "")
        except ValueError as exc:
            where.add("roles" if "role" in str(exc) else "difficulty", str(exc))
    where.raise_if_any()
    text(where, "current_role", plain["current_role"], roles)
    for k in ("handoff_due", "hidden"):
        if k in plain and not isinstance(plain[k], bool):
            where.add(k, "expected true or false")
    whole(where, "rng", plain["rng"], 0, 2**63 - 1)
    whole(where, "turn_months", plain.get("turn_months", DEFAULT_TURN_MONTHS), 1, 24)
    check_scenario(where, "scenario", plain["scenario"], default_policy_spec())
    _check_lesson(where, plain.get("lesson"), plain["roles"])
    injected = plain.get("injected", [])
    if listing(where, "injected", injected):
        for i, x in enumerate(injected):
            if not isinstance(x, dict) or not all(isinstance(v, str) for v in x.values()):
                where.add(f"injected[{i}]", "expected a mapping of text (date, id, name, headline)")
    listing(where, "decisions", plain["decisions"])
    ignored = plain.get("proposals_ignored", [])
    if listing(where, "proposals_ignored", ignored):
        scenario = Scenario.from_plain(plain["scenario"]) if not where.problems else None
        offered = len(proposals_for(scenario, roles)) if scenario is not None else None
        for i, x in enumerate(ignored):
            if isinstance(x, bool) or not isinstance(x, int) or x < 0 or (
                offered is not None and x >= offered
            ):
                where.add(
                    f"proposals_ignored[{i}]",
                    f"expected the number of one of the game's {offered} proposals, got {x!r}",
                )
    where.raise_if_any()


_LESSON_KEYS = ("name", "title", "summary", "questions", "events", "teacher", "goals")


def _check_lesson(where: Where, lesson: Any, roles: list[str]) -> None:
    """What a game keeps of its lesson (Lesson.record): text where the report shows text,
    known events, and goal numbers of the roles that play, finite."""
    if lesson is None or not mapping(where, "lesson", lesson):
        return
    if not mapping(where, "lesson", lesson, [k for k in _LESSON_KEYS if k in lesson]):
        return
    for k in ("name", "title", "summary", "teacher"):
        if lesson.get(k) is not None:
            text(where, f"lesson.{k}", lesson[k])
    questions = lesson.get("questions") or []
    if listing(where, "lesson.questions", questions):
        for i, q in enumerate(questions):
            text(where, f"lesson.questions[{i}]", q)
    events = lesson.get("events")
    if events is not None and listing(where, "lesson.events", events):
        for i, e in enumerate(events):
            text(where, f"lesson.events[{i}]", e, default_events())
    goals = lesson.get("goals") or {}
    if not mapping(where, "lesson.goals", goals):
        return
    for role, numbers in goals.items():
        k = f"lesson.goals.{role}"
        if not text(where, k, role, roles) or not mapping(where, k, numbers):
            continue
        known = [g for g, v in ROLES[role].goal.items() if not isinstance(v, str)]
        for key, value in numbers.items():
            if text(where, f"{k}.{key}", key, known):
                number(where, f"{k}.{key}", value)


def _check_worlds(where: Where, plain: dict[str, Any], model: ChipWarModel, ghost: Any) -> None:
    """What ties the session to its worlds: the same seed and horizon, and decisions dated
    within the months played, by roles that play, each a change the lever spec allows."""
    if model.rng_seed != plain["rng"] or ghost.rng_seed != plain["rng"]:
        where.add("rng", f"expected the worlds' seed ({model.rng_seed}), got {plain['rng']}")
    if (ghost.turn, ghost.horizon) != (model.turn, model.horizon):
        where.add("", "the world and its ghost are at different months")
    first, last = model.start, model.month + 1
    spec, world = model.spec, model.world
    for i, d in enumerate(plain["decisions"]):
        k = f"decisions[{i}]"
        if not mapping(where, k, d) or not mapping(
            where, k, d, [x for x in ("date", "role", "change", "effect") if x in d]
        ):
            continue
        for x in ("date", "role", "change"):
            if x not in d:
                where.add(f"{k}.{x}", "missing required key")
        if where.problems:
            break
        month_text(where, f"{k}.date", d["date"], first, last)
        text(where, f"{k}.role", d["role"], plain["roles"])
        check_change_plain(where, f"{k}.change", d["change"], spec, world, model.chips.known_ids())
        effect = d.get("effect")
        if effect is not None and mapping(where, f"{k}.effect", effect):
            for b, v in effect.items():
                number(where, f"{k}.effect.{b}", v)
        if len(where.problems) > 20:
            break
    for i, x in enumerate(plain.get("injected", [])):
        if "date" in x:
            month_text(where, f"injected[{i}].date", x["date"], first, last)
    where.raise_if_any()
