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
    UIHorizontalSlider,
    UILabel,
    UIPanel,
)

from game.config.texts import family
from game.config.texts import text as tr
from game.ui.text import fit

if TYPE_CHECKING:
    from game.config.levers import LeverSpec
    from game.play.session import GameSession

ROW = 30
PAGER = 34
SETTLE_SECONDS = 0.3
EMBARGO_W = 96


@dataclass
class Control:
    """One interactive widget and the lever (and target) it moves."""

    widget: Any
    lever: LeverSpec
    target: str | None
    value_label: UILabel | None = None
    step: float = 1.0  # a slider's click increment (arrow keys use it too)


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
        self.embargo_boxes: dict[Any, tuple[LeverSpec, str | None]] = {}
        self.before_embargo: dict[str, str] = {}
        self.pending: dict[tuple[str, str | None], tuple[Any, float]] = {}
        # check boxes set by the panel itself: pygame_gui posts the same event as a click for
        # them, which must not come back as the player's decision
        self.echoes: set[Any] = set()
        self.clock = 0.0
        self.focus = -1
        self.page = 0
        self.container = UIPanel(rect, manager=manager, object_id="#lever_panel")
        self.items = self._items()
        self.pages = self._paginate(self.items, max(3, (rect.height - PAGER) // ROW))
        self._build()

    # ------------------------------------------------------------------ building
    def _targets(self, lever: LeverSpec) -> list[tuple[str, str]]:
        """(target id, label) rows a per-target lever gets in this role's panel."""
        return self.session.lever_rows(lever.id)  # type: ignore[return-value]

    def _items(self) -> list[tuple[str, LeverSpec | None, str | None, str]]:
        """Every line of the panel, in order: ("row", lever, target, label) or a section
        ("head", lever, None, title)."""
        items: list[tuple[str, LeverSpec | None, str | None, str]] = []
        levers = self.session.levers()
        for lv in levers:
            if lv.target == "none":
                items.append(("row", lv, None, lv.name))
        for lv in levers:
            if lv.target == "none":
                continue
            rows = self._targets(lv)
            if not rows:  # e.g. no variant left to launch
                continue
            title = tr("section_destinations") if lv.id == "destination" else lv.name
            items.append(("head", lv, None, title))
            items += [("row", lv, target, label) for target, label in rows]
        return items

    @staticmethod
    def _paginate(items: list, per_page: int) -> list[list]:
        """Pages of at most per_page lines; a section heading never ends a page."""
        pages: list[list] = [[]]
        for item in items:
            if len(pages[-1]) >= per_page or (item[0] == "head" and len(pages[-1]) >= per_page - 1):
                pages.append([])
            pages[-1].append(item)
        return pages

    def _build(self) -> None:
        """Lay out the current page (the panel pages rather than scrolls: pygame_gui 0.6.14
        misroutes clicks in a scrolled container)."""
        for element in list(self.container.get_container().elements):
            element.kill()
        self.controls.clear()
        self.by_element.clear()
        self.embargo_boxes.clear()
        self.echoes.clear()
        width = self.rect.width - 12
        name_w = int(width * 0.48)
        ctl_w = width - name_w - 62  # and the value's label, inside the panel
        y = 2
        if not self.items:
            self._label(pygame.Rect(4, y, width, ROW), tr("levers_none"), "@small")
        for kind, lv, target, label in self.pages[self.page]:
            if kind == "head":
                self._label(pygame.Rect(4, y + 6, width, ROW - 6), label, "@heading", tooltip=lv)
            else:
                self._row(lv, target, label, y, name_w, ctl_w)
            y += ROW
        if len(self.pages) > 1:
            bottom = self.rect.height - PAGER + 2
            self.prev_button = UIButton(
                pygame.Rect(4, bottom, 40, PAGER - 8),
                "\u2039",
                self.manager,
                container=self.container,
                object_id="#lever_prev",
                tool_tip_text=tr("page_prev"),
            )
            UILabel(
                pygame.Rect(48, bottom, width - 96, PAGER - 8),
                tr("page", page=self.page + 1, pages=len(self.pages)),
                self.manager,
                container=self.container,
                object_id="@small",
            )
            self.next_button = UIButton(
                pygame.Rect(width - 40, bottom, 40, PAGER - 8),
                "\u203a",
                self.manager,
                container=self.container,
                object_id="#lever_next",
                tool_tip_text=tr("page_next"),
            )

    def turn_page(self, step: int) -> None:
        self.page = (self.page + step) % len(self.pages)
        self._build()

    def show(self, lever: str, target: str | None = None) -> None:
        """Turn to the page holding a lever (for the keyboard and for tests)."""
        for i, page in enumerate(self.pages):
            if any(it[0] == "row" and it[1].id == lever and it[2] == target for it in page):
                if i != self.page:
                    self.page = i
                    self._build()
                return
        raise KeyError(f"no lever {lever} {target or ''} in this panel")

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
        name = UIButton(
            pygame.Rect(4, y + 2, name_w, ROW - 4),
            label,
            self.manager,
            container=self.container,
            object_id="@lever_name",
            tool_tip_text=_tooltip(lv),
        )
        room = name_w - 2 * name.drawable_shape.text_view_rect.x
        if name.font.size(label)[0] > room:  # cut, whole in its tooltip
            name.set_text(fit(name.font, label, room))
            name.set_tooltip(f"<b>{label}</b><br>{_tooltip(lv)}")
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
            # A button that cycles through the choices (left click: next, right click: back).
            # Drop-down menus are not used here: inside a scrolling container their parts
            # drift apart in pygame_gui 0.6.14.
            embargo = lv.id == "destination"
            if embargo:
                rect.width -= EMBARGO_W
            widget = UIButton(
                rect,
                _choice_label(value),
                self.manager,
                container=self.container,
                object_id=oid,
                generate_click_events_from=(1, 3),
                tool_tip_text=_tooltip(lv) + "<br>" + tr("cycle_hint"),
            )
            if embargo:
                box = UICheckBox(
                    pygame.Rect(rect.right + 8, y + 6, 18, 18),
                    tr("embargo"),
                    self.manager,
                    container=self.container,
                    object_id=f"#embargo-{target}",
                    initial_state=value == "embargoed",
                    tool_tip_text=_tooltip(lv),
                )
                self.embargo_boxes[box] = (lv, target)
        control = Control(widget, lv, target, value_label, step if lv.kind == "number" else 1.0)
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
            if event.ui_element in self.echoes:
                self.echoes.discard(event.ui_element)
                return True
            control = self.by_element.get(event.ui_element)
            if control:
                self._decide(control, event.type == pygame_gui.UI_CHECK_BOX_CHECKED)
                return True
        elif event.type == pygame_gui.UI_BUTTON_PRESSED:
            if len(self.pages) > 1 and event.ui_element in (self.prev_button, self.next_button):
                self.turn_page(-1 if event.ui_element is self.prev_button else 1)
                return True
            control = self.by_element.get(event.ui_element)
            if control:
                self.cycle(control, -1 if getattr(event, "mouse_button", 1) == 3 else 1)
                return True
        if event.type in (pygame_gui.UI_CHECK_BOX_CHECKED, pygame_gui.UI_CHECK_BOX_UNCHECKED):
            if event.ui_element in self.embargo_boxes:
                self.embargo(event.ui_element, event.type == pygame_gui.UI_CHECK_BOX_CHECKED)
                return True
        return False

    def cycle(self, control: Control, direction: int) -> None:
        """The next (or previous) choice of a choice lever."""
        options = [o[1] for o in _choices(control.lever, self.session)]
        current = str(self.session.lever_value(control.lever.id, control.target))
        i = options.index(current) if current in options else 0
        choice = options[(i + direction) % len(options)]
        self._decide(control, choice)
        control.widget.set_text(_choice_label(choice))
        self._sync_embargo(control.target, choice)

    def embargo(self, box: Any, on: bool) -> None:
        """The embargo toggle: embargo a country, or give it back the tier it had before."""
        lv, target = self.embargo_boxes[box]
        current = str(self.session.lever_value(lv.id, target))
        if on and current != "embargoed":
            self.before_embargo[str(target)] = current
        choice = "embargoed" if on else self.before_embargo.pop(str(target), "restricted")
        control = next(c for c in self.controls if (c.lever.id, c.target) == (lv.id, target))
        self._decide(control, choice)
        control.widget.set_text(_choice_label(choice))

    def _sync_embargo(self, target: str | None, choice: str) -> None:
        for box, (_, t) in self.embargo_boxes.items():
            if t == target:
                self._set_box(box, choice == "embargoed")

    def _set_box(self, box: Any, state: bool) -> None:
        """Check or clear a box for the player to see, not as the player's click."""
        if box.is_checked != state:
            self.echoes.add(box)
            box.set_state(state)

    def _settle(self, control: Control, value: Any) -> None:
        self.pending[(control.lever.id, control.target)] = (value, self.clock)

    def _decide(self, control: Control, value: Any) -> None:
        if control.lever.kind == "number":
            lo, hi = control.lever.range or (0, 1)
            value = min(max(float(value), lo), hi)
        self.session.decide(control.lever.id, value, control.target)
        self.sync()  # a rule bundles other levers: its thresholds show at once

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

    def sync(self) -> None:
        """Show every widget's lever as it is in force now. The panel is not the only thing
        that moves levers: an export rule's preset sets its thresholds when the month runs, a
        schedule or a bot changes them, an undo takes a decision back. A widget the player is
        moving (a drag held, a move not yet settled) is left alone."""
        for c in self.controls:
            if (c.lever.id, c.target) in self.pending:
                continue
            value = self.session.lever_value(c.lever.id, c.target)
            if c.lever.kind == "number":
                button = getattr(c.widget, "sliding_button", None)
                if button is not None and button.held:
                    continue
                shown = int(round(float(value))) if c.widget.use_integers_for_value else value
                if c.widget.get_current_value() != shown:
                    c.widget.set_current_value(shown, warn=False)
                if c.value_label is not None and c.value_label.text != _show(value, c.lever):
                    c.value_label.set_text(_show(value, c.lever))
            elif c.lever.kind == "bool":
                self._set_box(c.widget, bool(value))
            elif c.widget.text != _choice_label(value):
                c.widget.set_text(_choice_label(value))
                self._sync_embargo(c.target, str(value))

    def flush(self) -> None:
        """Apply every pending move now (before a month passes)."""
        self.clock += SETTLE_SECONDS
        self.update(0.0)

    # ------------------------------------------------------------------ keyboard
    def focus_next(self, step: int = 1) -> None:
        """Tab through the levers, turning pages as the focus runs off one."""
        if not self.controls:
            return
        nxt = self.focus + step
        if 0 <= nxt < len(self.controls) or len(self.pages) == 1:
            self.focus = nxt % len(self.controls)
            return
        self.turn_page(1 if step > 0 else -1)
        self.focus = 0 if step > 0 else len(self.controls) - 1

    def focused(self) -> Control | None:
        return self.controls[self.focus] if 0 <= self.focus < len(self.controls) else None

    def adjust(self, direction: int) -> bool:
        """Arrow keys on the focused lever: step a slider, toggle a check box, cycle a choice."""
        control = self.focused()
        if control is None:
            return False
        lv, w = control.lever, control.widget
        if lv.kind == "number":
            new = w.get_current_value() + direction * control.step
            w.set_current_value(new, warn=False)
            new = w.get_current_value()
            if control.value_label:
                control.value_label.set_text(_show(new, lv))
            self._settle(control, new)
        elif lv.kind == "bool":
            on = not bool(self.session.lever_value(lv.id, control.target))
            self._decide(control, on)
            w.set_state(on)
        else:
            self.cycle(control, direction)
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
        session.view.rule_ids if lv.choices == "rule_versions" else list(lv.choices or [])
    )
    return [(_choice_name(c), c) for c in ids]


def _choice_name(choice: str) -> str:
    """A choice's name (choice_labels_* in the text file), else its id (a rule version's)."""
    return family("choice_labels").get(choice, choice)


def _choice_label(value: Any) -> str:
    return _choice_name(str(value)) + "  \u203a"


def _tooltip(lv: LeverSpec) -> str:
    """In the player's words, then the real rule it stands for."""
    return tr("lever_tip", says=lv.says, mirrors=lv.mirrors)


def _show(value: Any, lv: LeverSpec) -> str:
    v = float(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if lv.unit and "share" in lv.unit:
        return f"{v:.0%}"
    return f"{v:.2f}".rstrip("0").rstrip(".") if not v.is_integer() else f"{v:.0f}"
