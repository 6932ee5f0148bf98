"""The lever panel, built from the lever spec (policies/levers.yaml) for the player's role: a
slider for a number, a check box for a yes/no, a drop-down for a choice, one row per target
where a lever takes one (an export tier per country, the entity list per lab). Each lever's
name carries a tooltip with what it does and the real rule it mirrors. Changes go to the game
only through `session.decide`; slider drags are settled for a moment first, so that one drag
is one decision (one undo step, one projection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pygame
import pygame_gui
from pygame_gui.elements import (
    UIButton,
    UICheckBox,
    UIDropDownMenu,
    UIHorizontalSlider,
    UILabel,
    UIScrollingContainer,
)

from game.objectives import ROLES
from game.ui import strings as S

if TYPE_CHECKING:
    from game.policy import LeverSpec
    from game.session import GameSession

ROW = 30
SETTLE_SECONDS = 0.3


@dataclass
class Control:
    """One interactive widget and the lever (and target) it moves."""

    widget: Any
    lever: LeverSpec
    target: str | None
    value_label: UILabel | None = None


def element_id(lever: str, target: str | None = None) -> str:
    """The object id of a lever's widget: #lever-<lever>[-<target>] (tests click by these)."""
    return f"#lever-{lever}" + (f"-{target}" if target else "")


class LeverPanel:
    def __init__(
        self, manager: pygame_gui.UIManager, rect: pygame.Rect, session: GameSession
    ) -> None:
        self.manager = manager
        self.rect = rect
        self.session = session
        self.controls: list[Control] = []
        self.by_element: dict[Any, Control] = {}
        self.pending: dict[tuple[str, str | None], tuple[Any, float]] = {}
        self.clock = 0.0
        self.focus = -1
        self.container = UIScrollingContainer(
            rect, manager, object_id="#lever_panel", allow_scroll_x=False
        )
        self._build()

    # ------------------------------------------------------------------ building
    def _targets(self, lever: LeverSpec) -> list[tuple[str, str]]:
        """(target id, label) rows a per-target lever gets in this role's panel."""
        m = self.session.model
        role_actor = ROLES[self.session.current_role].actor
        if lever.target == "country":
            rows = [
                (c, n) for c, n in zip(m.country_ids, m.country_names, strict=True) if c != "us"
            ]
            if lever.id == "transit_pressure":
                rows = [
                    (c, n) for i, (c, n) in enumerate(rows) if m.transit[m.country_ids.index(c)]
                ]
            return rows
        if lever.target == "lab":
            if lever.owner == "lab":
                return [(role_actor, m.labs.names[m.lab_index[role_actor]])]
            us = m.bloc_ids.index("us") if "us" in m.bloc_ids else -1
            return [
                (lid, name)
                for i, (lid, name) in enumerate(zip(m.labs.ids, m.labs.names, strict=True))
                if m.labs.bloc[i] != us and m.labs.frontier[i]
            ]
        if lever.target == "vendor":
            return [(role_actor, next(v.name for v in m.vendors if v.vendor_id == role_actor))]
        if lever.target == "chip":
            chips = m.chips
            if lever.owner == "vendor":  # launch a catalogue variant of one's own
                mine = m.vendor_ids.index(role_actor)
                return [
                    (chips.ids[i], chips.ids[i])
                    for i in range(chips.n_catalogue)
                    if chips.vendor[i] == mine
                    and chips.variant_of[i] >= 0
                    and chips.available_from[i] > m.month
                ]
            on_sale = chips.on_sale(m.month) & m.view.subject
            return [(chips.ids[i], chips.ids[i]) for i in range(len(chips)) if on_sale[i]]
        return [(None, lever.name)]  # type: ignore[list-item]

    def _build(self) -> None:
        width = self.rect.width - 24
        name_w = int(width * 0.46)
        ctl_w = width - name_w - 58
        y = 0
        levers = self.session.levers()
        if not levers:
            self._label(pygame.Rect(4, y, width, ROW), S.LEVERS_NONE, "@small")
            y += ROW
        global_levers = [lv for lv in levers if lv.target == "none"]
        targeted = [lv for lv in levers if lv.target != "none"]
        for lv in global_levers:
            self._row(lv, None, lv.name, y, name_w, ctl_w)
            y += ROW
        for lv in targeted:
            rows = self._targets(lv)
            if not rows:  # e.g. no variant left to launch
                continue
            title = S.SECTION_DESTINATIONS if lv.id == "destination" else lv.name
            self._label(pygame.Rect(4, y + 6, width, ROW - 6), title, "@heading", tooltip=lv)
            y += ROW
            for target, label in rows:
                self._row(lv, target, label, y, name_w, ctl_w)
                y += ROW
        self.container.set_scrollable_area_dimensions(
            (self.rect.width - 20, max(y + 8, self.rect.height - 4))
        )

    def _label(
        self, rect: pygame.Rect, text: str, object_id: str, tooltip: LeverSpec | None = None
    ) -> None:
        if tooltip is not None:
            UIButton(
                rect,
                text,
                self.manager,
                container=self.container,
                object_id="@lever_name",
                tool_tip_text=_tooltip(tooltip),
            )
        else:
            UILabel(rect, text, self.manager, container=self.container, object_id=object_id)

    def _row(
        self, lv: LeverSpec, target: str | None, label: str, y: int, name_w: int, ctl_w: int
    ) -> None:
        UIButton(
            pygame.Rect(4, y + 2, name_w, ROW - 4),
            label,
            self.manager,
            container=self.container,
            object_id="@lever_name",
            tool_tip_text=_tooltip(lv),
        )
        rect = pygame.Rect(8 + name_w, y + 3, ctl_w, ROW - 6)
        value = self.session.lever_value(lv.id, target)
        oid = element_id(lv.id, target)
        value_label = None
        if lv.kind == "number":
            lo, hi = lv.range or (0.0, 1.0)
            if float(lo).is_integer() and float(hi).is_integer() and hi - lo > 20:
                lo, hi, start = int(lo), int(hi), int(round(float(value)))
                step: float = max(1, round((hi - lo) / 50))
            else:
                lo, hi, start = float(lo), float(hi), float(value)
                step = round((hi - lo) / 20, 4)
            widget = UIHorizontalSlider(
                rect,
                start,
                (lo, hi),
                self.manager,
                container=self.container,
                object_id=oid,
                click_increment=step,
            )
            value_label = UILabel(
                pygame.Rect(rect.right + 4, y + 3, 54, ROW - 6),
                _show(value, lv),
                self.manager,
                container=self.container,
                object_id="@small",
            )
        elif lv.kind == "bool":
            widget = UICheckBox(
                pygame.Rect(rect.x, y + 6, 18, 18),
                "",
                self.manager,
                container=self.container,
                object_id=oid,
                initial_state=bool(value),
                tool_tip_text=_tooltip(lv),
            )
        else:
            options = _choices(lv, self.session)
            current = str(value)
            if current not in [o[1] for o in options]:
                options.append((current, current))
            start_opt = next(o for o in options if o[1] == current)
            widget = UIDropDownMenu(
                options,
                start_opt,
                rect,
                self.manager,
                container=self.container,
                object_id=oid,
                expansion_height_limit=200,
            )
        control = Control(widget, lv, target, value_label)
        self.controls.append(control)
        self.by_element[widget] = control

    # ------------------------------------------------------------------ events
    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame_gui.UI_HORIZONTAL_SLIDER_MOVED:
            control = self.by_element.get(event.ui_element)
            if control:
                self._settle(control, event.value)
                if control.value_label:
                    control.value_label.set_text(_show(event.value, control.lever))
                return True
        elif event.type in (pygame_gui.UI_CHECK_BOX_CHECKED, pygame_gui.UI_CHECK_BOX_UNCHECKED):
            control = self.by_element.get(event.ui_element)
            if control:
                self._decide(control, event.type == pygame_gui.UI_CHECK_BOX_CHECKED)
                return True
        elif event.type == pygame_gui.UI_DROP_DOWN_MENU_CHANGED:
            control = self.by_element.get(event.ui_element)
            if control:
                self._decide(control, event.selected_option_id)
                return True
        return False

    def _settle(self, control: Control, value: Any) -> None:
        self.pending[(control.lever.id, control.target)] = (value, self.clock)

    def _decide(self, control: Control, value: Any) -> None:
        if control.lever.kind == "number":
            lo, hi = control.lever.range or (0, 1)
            value = min(max(float(value), lo), hi)
        self.session.decide(control.lever.id, value, control.target)

    def update(self, dt: float) -> list[str]:
        """Apply slider moves that have settled; returns error messages, if any."""
        self.clock += dt
        errors = []
        for key, (value, when) in list(self.pending.items()):
            if self.clock - when >= SETTLE_SECONDS:
                del self.pending[key]
                control = next(c for c in self.controls if (c.lever.id, c.target) == key)
                try:
                    self._decide(control, value)
                except Exception as exc:  # a CommandError from the model: show it, keep playing
                    errors.append(str(exc))
        return errors

    def flush(self) -> None:
        """Apply every pending move now (before a month passes)."""
        self.clock += SETTLE_SECONDS
        self.update(0.0)

    # ------------------------------------------------------------------ keyboard
    def focus_next(self, step: int = 1) -> None:
        if self.controls:
            self.focus = (self.focus + step) % len(self.controls)

    def focused(self) -> Control | None:
        return self.controls[self.focus] if 0 <= self.focus < len(self.controls) else None

    def adjust(self, direction: int) -> bool:
        """Arrow keys on the focused lever: step a slider, toggle a check box, cycle a choice."""
        control = self.focused()
        if control is None:
            return False
        lv, w = control.lever, control.widget
        if lv.kind == "number":
            new = w.get_current_value() + direction * w.click_increment
            w.set_current_value(new, warn=False)
            new = w.get_current_value()
            if control.value_label:
                control.value_label.set_text(_show(new, lv))
            self._settle(control, new)
        elif lv.kind == "bool":
            self._decide(control, not bool(self.session.lever_value(lv.id, control.target)))
            return True  # the caller rebuilds the panel to show it
        else:
            options = [o[1] for o in _choices(lv, self.session)]
            current = str(self.session.lever_value(lv.id, control.target))
            i = options.index(current) if current in options else 0
            self._decide(control, options[(i + direction) % len(options)])
            return True
        return False

    def focus_rect(self) -> pygame.Rect | None:
        control = self.focused()
        if control is None:
            return None
        rect = control.widget.rect.inflate(6, 6)
        return rect if self.container.rect.contains(rect) else None

    def kill(self) -> None:
        self.container.kill()


def _choices(lv: LeverSpec, session: GameSession) -> list[tuple[str, str]]:
    ids = (
        list(session.model.spec.rules) if lv.choices == "rule_versions" else list(lv.choices or [])
    )
    return [(S.CHOICE_LABELS.get(c, c), c) for c in ids]


def _tooltip(lv: LeverSpec) -> str:
    return f"{lv.does}<br><i>Mirrors: {lv.mirrors}</i>"


def _show(value: Any, lv: LeverSpec) -> str:
    v = float(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if lv.unit and "share" in lv.unit:
        return f"{v:.0%}"
    return f"{v:.2f}".rstrip("0").rstrip(".") if not v.is_integer() else f"{v:.0f}"
