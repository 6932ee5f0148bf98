"""The main screen: the world map with chip flows, the player's levers, time controls, charts
with the ghost line and the projection fan, the news and the objective. It reads the world only
through `session.view` (a WorldView) and changes it only through `session.decide`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UILabel, UITextBox, UIWindow
from pygame_gui.windows import UIConfirmationDialog, UIFileDialog

from game.config.dates import format_month, parse_month
from game.config.errors import CommandError, InputError
from game.config.events import default_events
from game.config.texts import family
from game.config.texts import text as tr
from game.config.yamlfile import shown_path
from game.play import autosave
from game.play.objectives import ROLES
from game.play.projection import Fan
from game.play.session import GameSession, Proposal
from game.reports import format as F
from game.ui import palette
from game.ui.app import App, Scene, confirmation, font, scene
from game.ui.charts import Chart, Series, bloc_chart, chart_axis, plot_rect, render
from game.ui.lever_panel import LeverPanel
from game.ui.text import fit, note, wrap
from game.ui.world_map import WorldMap, load_map_data

MONTHS_PER_SECOND = {1: 0.5, 4: 2.0, 16: 8.0}  # the speeds (their names: speeds_*)
# the status line's shorter forms, for a narrow window (the last drops even the pause)
STATUS_SHORTER = ("status_shorter_0", "status_shorter_1", "status_shorter_2")
NEWS_LINES = 9
BAR = 44
SCORE_LINE = 17  # a line of the score's explanation


HINT_MONTHS = 3  # a player's first quarter gets hints (the hints_* texts)

class Layout:
    """Where everything goes, for any window size (1024x700 and up): the map at its own aspect
    on the left, the charts below it, the objective, levers and news down the right."""

    @staticmethod
    def side_width(w: int) -> int:
        return max(400, int(w * 0.33))

    def __init__(self, w: int, h: int, map_aspect: float, objective_h: int = 134) -> None:
        side = self.side_width(w)
        map_w = w - side
        map_h = min(int(map_w / map_aspect), int((h - BAR) * 0.62))
        self.bar = pygame.Rect(0, 0, w, BAR)
        self.map = pygame.Rect(0, BAR, map_w, map_h)
        self.charts = pygame.Rect(0, self.map.bottom, map_w, h - self.map.bottom)
        self.side = pygame.Rect(map_w, BAR, side, h - BAR)
        self.objective = pygame.Rect(self.side.x + 8, BAR + 4, side - 16, objective_h)
        news_h = max(190, int(h * 0.27))
        self.levers = pygame.Rect(
            self.side.x + 4,
            self.objective.bottom + 26,
            side - 8,
            h - self.objective.bottom - 26 - news_h - 30,
        )
        self.news = pygame.Rect(self.side.x + 8, h - news_h, side - 16, news_h - 6)
        quarter = self.charts.width // 4
        height = self.charts.height - 8
        self.chart_cap = pygame.Rect(4, self.charts.y + 4, quarter * 2 - 6, height)
        self.chart_compute = pygame.Rect(
            self.chart_cap.right + 4, self.charts.y + 4, quarter - 4, height
        )
        self.chart_gray = pygame.Rect(
            self.chart_compute.right + 4,
            self.charts.y + 4,
            self.charts.width - self.chart_compute.right - 8,
            height,
        )


@scene("play")
class PlayScene(Scene):
    def __init__(self, app: App, session: GameSession) -> None:
        super().__init__(app)
        self.session = session
        self.ghost_view = session.ghost_view
        self.speed = 1
        self.paused = True
        self.clock = 0.0
        self.t = 0.0
        self.selected: str | None = None
        self.map = WorldMap(load_map_data(), session.view.countries)
        self.small = font(12)
        self.title_font = font(13, bold=True)
        self.charts_dirty = True
        self.chart_surfaces: dict[str, pygame.Surface] = {}
        self.legend: list[tuple[str, pygame.Rect]] = []
        self.state = session.view.map_state()
        self.windows: list[UIWindow] = []
        self.message = ""
        self.seen_month = session.view.turn
        self.frozen = False  # "pause everyone": the facilitator holds the game
        self.fac_window: UIWindow | None = None
        self.fac_buttons: dict[str, UIButton] = {}
        self.fac_status: UILabel | None = None
        self.prop_window: UIWindow | None = None
        self.prop_buttons: dict[UIButton, tuple[str, Proposal]] = {}
        self.proposals_shown: set[int] = set()  # id() of the proposals already put to players
        self.leave_dialog: UIConfirmationDialog | None = None
        self.paused_before_asking = True
        self.autosave_failing = False  # said once in a window, then on the message line

    # ------------------------------------------------------------------ building
    def build(self) -> None:
        w, h = self.app.size
        self.layout = Layout(w, h, self.map.aspect, self._objective_height(w, h))
        self.map.layout(self.layout.map)
        self._build_top_bar(w)
        self._build_objective()
        self._build_levers()
        self._build_news()
        self._build_hint()
        self.why_buttons: dict[str, UIButton] = {}
        self.legend = []
        self.charts_dirty = True
        self._render_charts()
        self._refresh_texts()
        self._set_speed_buttons()
        if self.fac_window is not None:  # a rebuild (resize, hand-over) keeps it open
            self.fac_window = None
            self.open_facilitator()
        self._apply_freeze()

    def _build_top_bar(self, w: int) -> None:
        """Time controls on the left, the status line, the game's commands on the right."""
        m = self.manager
        x = 8
        self.buttons: dict[str, UIButton] = {}

        def button(key: str, text: str, width: int, tip: str | None = None) -> None:
            nonlocal x
            self.buttons[key] = self.keep(
                UIButton(
                    pygame.Rect(x, 6, width, 32), text, m, object_id=f"#{key}", tool_tip_text=tip
                )
            )
            x += width + 4

        button("pause", tr("play") if self.paused else tr("pause"), 70, tr("key_space"))
        for n, speed in enumerate(MONTHS_PER_SECOND, 1):
            shown = tr(f"speeds_{speed}")
            button(f"speed_{speed}", shown, 46, f"{shown} ({n})")
        button("step", tr("step"), 60, tr("key_right_arrow"))
        x += 8
        self.status = self.keep(
            UILabel(pygame.Rect(x, 6, w - x - 410, 32), "", m, object_id="@status")
        )
        x = w - 398
        button("facilitator", tr("facilitator"), 76, tr("facilitator_tip"))
        button("undo", tr("undo"), 60, "Ctrl+Z")
        button("save", tr("save"), 56, "Ctrl+S")
        button("load", tr("load"), 56, "Ctrl+L")
        button("help", tr("help"), 56, "F1")
        button("menu", tr("menu"), 60, tr("menu_tip"))

    def _build_hint(self) -> None:
        """The first months' hint, over the top of the map, with a button that hides hints."""
        box = self.layout.map
        rect = pygame.Rect(box.x + 8, box.y + 8, box.width - 56, 54)
        self.hint_box = self.keep(UITextBox("", rect, self.manager, object_id="#hint"))
        self.hint_close = self.keep(
            UIButton(
                pygame.Rect(rect.right + 4, rect.y, 32, 32),
                "\u00d7",
                self.manager,
                object_id="#hint_close",
                tool_tip_text=tr("hint_close"),
            )
        )
        self.hint_shown: str | None = ""  # not a hint: the first _show_hint always applies

    def hint(self) -> str | None:
        """What to try next, for a player's first months (None once they are over or hints
        are off): read the levers, then see what a decision does, then ask why."""
        s = self.session
        if not self.app.hints or s.model.turn >= HINT_MONTHS:
            return None
        if s.model.turn == 0:
            return tr("hints_1") if s.decisions else tr("hints_0")
        return tr("hints_2")

    def _show_hint(self) -> None:
        text = self.hint()
        if text == self.hint_shown:
            return
        self.hint_shown = text
        if text is None:
            self.hint_box.hide()
            self.hint_close.hide()
        else:
            self.hint_box.set_text(text)
            self.hint_box.show()
            self.hint_close.show()

    def _build_objective(self) -> None:
        """The role's goal in a sentence, and the score against it."""
        m, box = self.manager, self.layout.objective
        role = self.session.role_of()
        self.objective_title = self.keep(
            UILabel(
                pygame.Rect(box.x, box.y, box.width, 22),
                tr("objective_heading", role=role.name),
                m,
                object_id="@heading",
            )
        )
        self.objective_text = self.keep(
            UITextBox(
                role.objective,
                pygame.Rect(box.x, box.y + 22, box.width, box.height - 44 - 2 * SCORE_LINE),
                m,
                object_id="#objective",
            )
        )
        self.score_label = self.keep(
            UILabel(
                pygame.Rect(box.x, box.bottom - 22 - 2 * SCORE_LINE, box.width, 22),
                "",
                m,
                object_id="#score",
            )
        )
        # the score's explanation, in two lines: labels, not a text box (a text box costs
        # ~12 ms to re-set)
        self.score_lines = [
            self.keep(
                UILabel(
                    pygame.Rect(box.x, box.bottom - (2 - i) * SCORE_LINE, box.width, SCORE_LINE),
                    "",
                    m,
                    object_id="@small",
                )
            )
            for i in range(2)
        ]
        self.score_text = self.score_lines[0]

    def _build_levers(self) -> None:
        """The role's levers, on the page the player was on before a rebuild."""
        m, box = self.manager, self.layout.levers
        self.keep(
            UILabel(
                pygame.Rect(box.x + 4, box.y - 24, box.width, 22),
                tr("levers"),
                m,
                object_id="@heading",
            )
        )
        page = self.panel.page if getattr(self, "panel", None) else 0
        self.panel = LeverPanel(m, box, self.session)
        if page < len(self.panel.pages):
            self.panel.page = page
            self.panel._build()
        self.keep(self.panel.container)

    def _build_news(self) -> None:
        m, box = self.manager, self.layout.news
        self.keep(
            UILabel(
                pygame.Rect(box.x, box.y - 24, box.width, 22), tr("news"), m, object_id="@heading"
            )
        )
        line_h = max(18, box.height // NEWS_LINES)
        self.news_labels = [
            self.keep(
                UILabel(
                    pygame.Rect(box.x, box.y + i * line_h, box.width, line_h),
                    "",
                    m,
                    object_id="@small",
                )
            )
            for i in range(NEWS_LINES)
        ]

    def _place_why_buttons(self) -> None:
        for b in self.why_buttons.values():
            b.kill()
        self.why_buttons.clear()
        names = family("bloc_short")
        for label, rect in self.legend:
            bloc = next((b for b, n in names.items() if n == label), None)
            if bloc is None:
                continue
            r = pygame.Rect(
                self.layout.chart_cap.x + rect.right + 3,
                self.layout.chart_cap.y + rect.y - 2,
                44,
                20,
            )
            self.why_buttons[bloc] = self.keep(
                UIButton(
                    r,
                    tr("why"),
                    self.manager,
                    object_id=f"#why_{bloc}",
                    tool_tip_text=tr("why_tip", bloc=label),
                )
            )

    # ------------------------------------------------------------------ per-month refresh
    def _refresh_texts(self) -> None:
        s = self.session
        speed = tr("paused") if self.paused else tr(f"speeds_{self.speed}")
        parts = {
            "date": s.view.date or tr("status_start"),
            "turn": s.view.turn,
            "horizon": s.view.horizon,
            "speed": speed,
            "role": ROLES[s.current_role].name,
        }
        # the whole line, or without its less needed parts where the bar is narrow
        forms = [tr(f, **parts) for f in ("status", *STATUS_SHORTER)]
        room = self.status.rect.width - 8
        status = next((f for f in forms if self.status.font.size(f)[0] <= room), None)
        status = status or fit(self.status.font, forms[-1], room)
        if self.status.text != status:
            self.status.set_text(status)
        score = s.score()
        self.score_label.set_text(
            (tr("goal_met") if score.value >= score.target else "")
            + tr("score", value=f"{score.value:.1f}", target=f"{score.target:.1f}")
        )
        self._set_lines(self.score_lines, score.text)
        self._show_hint()
        news = s.news(NEWS_LINES)[::-1]  # another team's decisions masked while hidden
        self.news_texts = [f"{item['date']}  {item['text']}" for item in news]
        for label, line in zip(self.news_labels, self.news_texts + [""] * NEWS_LINES, strict=False):
            self._set_fitted(label, line)
        self.state = s.view.map_state()

    @staticmethod
    def _set_fitted(label: UILabel, line: str) -> None:
        """A line in a label, cut with an ellipsis if it does not fit; the whole line is then
        the label's tooltip."""
        shown = fit(label.font, line, label.rect.width - 8)
        if label.text != shown:
            label.set_text(shown)
            label.set_tooltip(line if shown != line else None)

    def _set_lines(self, labels: list[UILabel], text: str) -> None:
        """A text over a few labels, a line each, the last one cut if it must be."""
        lines = wrap(labels[0].font, text, labels[0].rect.width - 8)
        if len(lines) > len(labels):
            lines[len(labels) - 1 :] = [" ".join(lines[len(labels) - 1 :])]
        for label, line in zip(labels, lines + [""] * len(labels), strict=False):
            self._set_fitted(label, line)

    def _objective_height(self, w: int, h: int) -> int:
        """Room for the role's objective (whole, without a scroll bar), the score and its
        two lines of explanation."""
        width = Layout.side_width(w) - 16
        probe = UITextBox(  # pygame_gui lays the text out itself: a box as tall as it needs
            self.session.role_of().objective,
            pygame.Rect(-width - 10, 0, width, -1),
            self.manager,
            object_id="#objective",
        )
        height = probe.rect.height
        probe.kill()
        return 22 + height + 22 + 2 * SCORE_LINE

    def _chart_data(self) -> tuple[Chart, Chart, Chart]:
        s = self.session
        view, ghost_view = s.view, self.ghost_view
        fan = s.fan
        cap_chart = bloc_chart(
            tr("chart_capability"),
            "frontier_capability",
            view,
            ghost_view,
            note=_fan_note(fan, s.fan_is_current),
            legend_gap=52,
            short_title=tr("chart_capability_short"),
            short_note=tr("fan_short")
            if fan is None or fan.complete or not s.fan_is_current
            else tr("fan_short_first", n=fan.seeds, of=fan.planned),
        )
        for series, b in zip(cap_chart.series, view.bloc_ids, strict=True):
            if fan is not None and b in fan.median:
                series.fan = (fan.median[b], fan.p10[b], fan.p90[b])
                series.fan_start = view.horizon - len(fan.median[b])
        compute_chart = bloc_chart(tr("chart_compute"), "compute_h100e", view, None, log=True)
        target = view.target_bloc  # the gray market serves the bloc the rules aim at
        changes = view.gray_chips(target)
        gray_chart = Chart(
            tr("chart_gray"),
            money=True,
            empty=tr("no_gray_market"),
            short_title=tr("chart_gray_short"),
            note=_gray_note(changes),
            short_note=changes[-1][1] if changes else "",
            **chart_axis(view),
        )
        gray_chart.series.append(
            Series(
                family("bloc_short").get(target, view.bloc_names[target]),
                view.series("gray_price_usd").get(target, np.zeros(0)),
                palette.FLOW["smuggled"],
                ghost=ghost_view.series("gray_price_usd").get(target),
            )
        )
        return cap_chart, compute_chart, gray_chart

    def _render_charts(self) -> None:
        if not self.charts_dirty:
            return
        L = self.layout
        cap, compute, gray = self._chart_data()
        fonts = (self.small, self.title_font)
        self.chart_surfaces["cap"], legend = render(
            cap, L.chart_cap.size, fonts, origin=L.chart_cap.topleft
        )
        if [lbl for lbl, _ in legend] != [lbl for lbl, _ in self.legend] or not self.why_buttons:
            self.legend = legend
            self._place_why_buttons()
        self.chart_surfaces["compute"], _ = render(
            compute, L.chart_compute.size, fonts, origin=L.chart_compute.topleft
        )
        self.chart_surfaces["gray"], _ = render(
            gray, L.chart_gray.size, fonts, origin=L.chart_gray.topleft
        )
        self.charts_dirty = False

    # ------------------------------------------------------------------ time
    def _set_speed_buttons(self) -> None:
        for speed in MONTHS_PER_SECOND:
            b = self.buttons[f"speed_{speed}"]
            b.change_object_id(
                f"#speed_{speed}"
                if speed != self.speed
                else pygame_gui.core.ObjectID(f"#speed_{speed}", "@speed_on")
            )
        self.buttons["pause"].set_text(tr("play") if self.paused else tr("pause"))
        if self.session.difficulty == "hard" or not self.session.can_undo() or self.frozen:
            self.buttons["undo"].disable()
        else:
            self.buttons["undo"].enable()

    def advance(self) -> None:
        """One month passes: settle pending slider moves, step, hand over or end."""
        self.panel.flush()
        self.session.step()
        self.after_month()

    def after_month(self) -> None:
        self.autosave(now=self.session.finished)  # the last month marks the game finished
        self.panel.sync()  # the month may have moved levers (a rule's preset, a schedule, a bot)
        self.charts_dirty = True
        self._refresh_texts()
        self._set_speed_buttons()
        if self.session.finished:
            self.app.replace(self.app.make("debrief", self.session))
        elif self.session.handoff_due:
            self.paused = True
            self.app.push(self.app.make("handoff", self.session))
        else:
            self.offer_proposals()

    def resume(self) -> None:
        """Back from the hand-off screen: the next team's levers (and history's steps due)."""
        self.rebuild()
        self.offer_proposals()

    # ------------------------------------------------------------------ history's proposals
    def offer_proposals(self) -> None:
        """Put history's steps that have come due to the seated team, once each: time stops
        and the window opens (the player adopts, ignores or just closes it)."""
        due = self.session.due_proposals()
        new = [p for p in due if id(p) not in self.proposals_shown]
        if not new:
            return
        self.proposals_shown.update(id(p) for p in new)
        self.paused = True
        self._set_speed_buttons()
        self.open_proposals()

    def open_proposals(self) -> None:
        """The window of history's steps due for the seated team: Adopt / Ignore each."""
        if self.prop_window is not None and self.prop_window.alive():
            self.prop_window.kill()
        m, s = self.manager, self.session
        due = s.due_proposals()
        width = min(520, self.layout.map.width - 20)
        row = 96
        height = min(120 + row * max(1, len(due)), self.layout.map.height - 16)
        rect = pygame.Rect(self.layout.map.x + 10, BAR + 8, width, height)
        window = UIWindow(
            rect, m, window_display_title=tr("proposals_title"), object_id="#proposals_window"
        )
        self.prop_window = self.keep(window)
        self.prop_buttons = {}
        inner = width - 32
        UITextBox(
            tr("proposals_intro") if due else tr("proposals_none"),
            pygame.Rect(0, 0, inner, 70),
            m,
            container=window,
            object_id="@small",
        )
        y = 72
        for i, p in enumerate(due):
            if y + row > height - 40:  # the rest come back once these are settled
                UILabel(
                    pygame.Rect(0, y, inner, 22),
                    tr("proposals_more", n=len(due) - i),
                    m,
                    container=window,
                    object_id="@small",
                )
                break
            text = tr("proposal_row", date=p.date, news=p.news, what=s.view.describe(p.change))
            UITextBox(text, pygame.Rect(0, y, inner - 96, row - 6), m, container=window)
            for j, (action, label) in enumerate(
                (("adopt", tr("proposal_adopt")), ("ignore", tr("proposal_ignore")))
            ):
                b = UIButton(
                    pygame.Rect(inner - 90, y + 4 + 40 * j, 90, 34),
                    label,
                    m,
                    container=window,
                    object_id=f"#proposal_{action}_{i}",
                )
                self.prop_buttons[b] = (action, p)
            y += row

    def _proposal_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_p and not event.mod:
            if self.prop_window is not None and self.prop_window.alive():
                self.prop_window.kill()
                self.prop_window = None
            else:
                self.open_proposals()
            return True
        if event.type == pygame_gui.UI_WINDOW_CLOSE and event.ui_element is self.prop_window:
            self.prop_window = None
            return True
        if event.type != pygame_gui.UI_BUTTON_PRESSED or event.ui_element not in self.prop_buttons:
            return False
        action, proposal = self.prop_buttons[event.ui_element]
        if action == "adopt":
            try:
                self.session.adopt(proposal)
            except CommandError as exc:
                self.show_message(str(exc))
            self.panel.sync()
            self._after_decision()
        else:
            self.session.ignore(proposal)
        if self.session.due_proposals():
            self.open_proposals()
        elif self.prop_window is not None:
            self.prop_window.kill()
            self.prop_window = None
        return True

    def update(self, dt: float) -> None:
        self.t += dt
        if self.app.autosave:
            self._autosave_failed(self.app.autosaver.poll())
        for error in self.panel.update(dt):
            self.show_message(error)
        if self.session.poll_projection() is not None:
            self.charts_dirty = True
            self._refresh_texts()
        if self.session.view.turn != self.seen_month:
            self.seen_month = self.session.view.turn
        if not self.paused:
            self.clock += dt
            interval = 1.0 / MONTHS_PER_SECOND[self.speed]
            if self.clock >= interval:  # at most a month a frame; the remainder carries over
                self.clock = min(self.clock - interval, interval)
                self.advance()
        if self.charts_dirty:
            self._render_charts()

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: pygame.Surface) -> None:
        L = self.layout
        pygame.draw.rect(surface, palette.LEGEND_BG, L.bar)
        pygame.draw.rect(surface, palette.BACKGROUND, L.side)
        self.map.draw(surface, self.state, self.t, self.selected)
        surface.blit(self.chart_surfaces["cap"], L.chart_cap)
        surface.blit(self.chart_surfaces["compute"], L.chart_compute)
        surface.blit(self.chart_surfaces["gray"], L.chart_gray)
        drawn = []
        if self.session.fan_pending:  # inside the plot under the note (clear of the title)
            img = self.small.render(tr("fan_computing"), True, palette.SELECTED)
            plot = plot_rect(L.chart_cap.size, self.legend, self.small).move(L.chart_cap.topleft)
            pos = (plot.right - img.get_width() - 4, plot.top + 2 + self.small.get_linesize())
            drawn.append((tr("fan_computing"), surface.blit(img, pos)))
        note("play:projecting", drawn, L.chart_cap)

    def draw_overlay(self, surface: pygame.Surface) -> None:
        if self.frozen:
            self._draw_frozen(surface)
        rect = self.panel.focus_rect()
        if rect is not None:
            pygame.draw.rect(surface, palette.SELECTED, rect, 2)
        drawn = []
        if self.message:  # at the foot of the map, between the legend and the attribution
            legend, credit = self.map.legend_rect, self.map.attribution_rect
            left, right = legend.right + 10, self.layout.map.right - 8
            shown = fit(self.small, self.message, right - left)
            img = self.small.render(shown, True, palette.SELECTED)
            pos = (left, credit.top - img.get_height() - 2)
            drawn.append((shown, surface.blit(img, pos)))
        note("play:message", drawn, self.layout.map)

    # ------------------------------------------------------------------ events
    def process_event(self, event: pygame.event.Event) -> bool:
        if self._facilitator_event(event):
            return True
        if not self.frozen and self._proposal_event(event):
            return True
        if self.frozen:  # everyone waits for the facilitator: levers and time are held
            if event.type == pygame_gui.UI_BUTTON_PRESSED and event.ui_element in (
                self.buttons["help"],
                self.buttons["save"],
            ):
                return self._button(event.ui_element)
            return event.type in (
                pygame.KEYDOWN,
                pygame.MOUSEBUTTONDOWN,
                pygame_gui.UI_BUTTON_PRESSED,
                pygame_gui.UI_HORIZONTAL_SLIDER_MOVED,
            )
        if self.panel.process_event(event):
            self._after_decision()
            return True
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            return self._button(event.ui_element)
        if event.type == pygame_gui.UI_FILE_DIALOG_PATH_PICKED:
            self.load(Path(event.text))
            return True
        if self._leave_event(event):
            return True
        if event.type == pygame_gui.UI_WINDOW_CLOSE and event.ui_element in self.windows:
            self.windows.remove(event.ui_element)
            return True
        if (
            event.type == pygame.MOUSEBUTTONDOWN
            and event.button == 1
            and self.layout.map.collidepoint(event.pos)
        ):
            country = self.map.country_at(event.pos)
            if country:
                self.selected = country
                self.open_country(country)
            return True
        if event.type == pygame.KEYDOWN:
            return self._key(event)
        return False

    def _after_decision(self) -> None:
        self.message = ""
        self.state = self.session.view.map_state()
        self._set_speed_buttons()
        self._refresh_texts()

    def _button(self, element: object) -> bool:
        for key, b in self.buttons.items():
            if element is b:
                if key == "pause":
                    self.paused = not self.paused
                elif key.startswith("speed_"):
                    self.speed = int(key.split("_")[1])
                    self.paused = False
                elif key == "step":
                    self.paused = True
                    self.advance()
                elif key == "undo":
                    self.undo()
                elif key == "save":
                    self.save()
                elif key == "load":
                    self.open_load_dialog()
                elif key == "help":
                    self.open_help()
                elif key == "facilitator":
                    self.toggle_facilitator()
                elif key == "menu":
                    self.ask_to_leave()
                self._set_speed_buttons()
                self._refresh_texts()
                return True
        for bloc, b in self.why_buttons.items():
            if element is b:
                self.open_why(bloc)
                return True
        if element is self.hint_close:
            self.app.hints = False
            self._show_hint()
            return True
        return False

    def _key(self, event: pygame.event.Event) -> bool:
        ctrl = event.mod & pygame.KMOD_CTRL
        if ctrl and event.key == pygame.K_s:
            self.save()
        elif ctrl and event.key == pygame.K_l:
            self.open_load_dialog()
        elif ctrl and event.key == pygame.K_z:
            self.undo()
        elif event.key == pygame.K_SPACE:
            self.paused = not self.paused
        elif event.key in (pygame.K_PERIOD,) or (
            event.key == pygame.K_RIGHT and self.panel.focused() is None
        ):
            self.paused = True
            self.advance()
        elif event.key in (pygame.K_1, pygame.K_2, pygame.K_3):
            self.speed = list(MONTHS_PER_SECOND)[event.key - pygame.K_1]
            self.paused = False
        elif event.key == pygame.K_TAB:
            self.panel.focus_next(-1 if event.mod & pygame.KMOD_SHIFT else 1)
        elif event.key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_RETURN) and self.panel.focused():
            self.panel.adjust(-1 if event.key == pygame.K_LEFT else 1)
            self._after_decision()
        elif event.key in (pygame.K_F1, pygame.K_h):
            self.open_help()
        elif event.key == pygame.K_ESCAPE:
            for window in self.windows:
                window.kill()
            self.windows.clear()
            self.panel.focus = -1
        else:
            return False
        self._set_speed_buttons()
        self._refresh_texts()
        return True

    # ------------------------------------------------------------------ actions
    def show_message(self, text: str) -> None:
        self.message = text

    def undo(self) -> None:
        if self.session.difficulty == "hard":
            return
        what = self.session.decisions[-1].change if self.session.decisions else None
        if self.session.undo():
            self.show_message(tr("undone", what=what))
            self.rebuild()
            self.charts_dirty = True
        else:
            self.show_message(tr("nothing_to_undo"))

    def save(self) -> None:
        self.panel.flush()
        self.app.saves_dir.mkdir(parents=True, exist_ok=True)
        path = self.app.saves_dir / "quicksave.scgame"
        try:
            self.session.save(path)
        except (InputError, OSError) as exc:
            self.error(str(exc))
            return
        self.show_message(tr("saved", path=shown_path(path)))

    def open_load_dialog(self) -> None:
        self.app.saves_dir.mkdir(parents=True, exist_ok=True)
        w, h = self.app.size
        dialog = UIFileDialog(
            pygame.Rect(w // 2 - 260, h // 2 - 220, 520, 440),
            self.manager,
            tr("load_title"),
            initial_file_path=str(self.app.saves_dir),
            allow_existing_files_only=True,
            object_id="#load_dialog",
        )
        self.keep(dialog)

    def load(self, path: Path) -> None:
        try:
            session = GameSession.load(path)
        except InputError as exc:
            self.error(str(exc))  # the game goes on as it was
            return
        projector = getattr(self.session, "projector", None)
        if projector is not None:
            session.attach_projector(projector)
        self.autosave(now=True)  # the game being replaced stays in its slot
        self.session = session
        self.ghost_view = session.ghost_view
        self.paused = True
        self.rebuild()
        self.show_message(tr("loaded", path=shown_path(path)))

    # ------------------------------------------------------------------ leaving, autosaves
    @property
    def holds_game(self) -> bool:
        return not self.session.finished

    def autosave(self, now: bool = False) -> list[str]:
        """Keep the game in its autosave slot: in the background after a month (a copy now,
        written beside the frame loop), or at once (`now`) when the game is left. Returns the
        errors of a write at once; a failed write in the background shows in `update`."""
        if not self.app.autosave:
            return []
        self.panel.flush()  # a slider still settling is part of the game left
        path = autosave.slot(self.app.saves_dir, self.session)
        if now:
            return self.app.autosaver.flush(self.session, path)
        self.app.autosaver.request(self.session, path)
        return []

    def _autosave_failed(self, errors: list[str]) -> None:
        """A failed autosave is said (a window the first time, then the message line); the
        game goes on and the next month tries again."""
        if not errors:
            return
        self.show_message(tr("autosave_failed_line", error=errors[-1]))
        if not self.autosave_failing:
            self.autosave_failing = True
            self.error(
                tr("autosave_failed", error=errors[-1]),
                title=tr("autosave_failed_title"),
                object_id="#autosave_error",
            )

    def closing(self) -> None:
        if not self.session.finished:
            self.autosave(now=True)

    def ask_to_leave(self) -> None:
        """Menu: back to the title, after asking (time stops while the question is open)."""
        if self.leave_dialog is not None and self.leave_dialog.alive():
            return
        self.paused_before_asking = self.paused
        self.paused = True
        view = self.session.view
        self._confirm(
            tr("confirm_leave_title"),
            tr("confirm_leave", date=view.date or format_month(view.start)),
            tr("confirm_leave_yes"),
            "#confirm_leave",
        )

    def _confirm(self, title: str, text: str, yes: str, object_id: str) -> None:
        self.leave_dialog = self.keep(
            confirmation(
                self.manager, self.app.size, title, text, yes, object_id, cancel=tr("confirm_stay")
            )
        )

    def leave_game(self, force: bool = False) -> None:
        """Write the autosave, then go to the title (where Continue brings the game back). If
        the write fails, the player is told and asked again: leaving would lose the game."""
        errors = [] if force else self.autosave(now=True)
        if errors:
            self._confirm(
                tr("confirm_unsaved_title"),
                tr("confirm_unsaved", error=errors[-1]),
                tr("confirm_unsaved_yes"),
                "#confirm_leave_unsaved",
            )
            return
        self.app.replace(self.app.make("title"))

    def _leave_event(self, event: pygame.event.Event) -> bool:
        dialog = self.leave_dialog
        if dialog is None or getattr(event, "ui_element", None) is not dialog:
            return False
        if event.type == pygame_gui.UI_CONFIRMATION_DIALOG_CONFIRMED:
            self.leave_dialog = None
            self.leave_game(force=dialog.most_specific_combined_id.endswith("#confirm_leave_unsaved"))
            return True
        if event.type == pygame_gui.UI_WINDOW_CLOSE:  # Keep playing: time runs as it did
            self.leave_dialog = None
            self.paused = self.paused_before_asking
            self._set_speed_buttons()
            self._refresh_texts()
            return True
        return False

    def _window(
        self, title: str, body: str, object_id: str, size: tuple[int, int] = (440, 420)
    ) -> UIWindow:
        w, h = self.app.size
        self.windows = [win for win in self.windows if win.alive()]
        cascade = 36 * (len(self.windows) % 4)  # each new window steps down and right of the last
        # windows stay over the map, so the charts and their why? buttons remain reachable
        size = (size[0], min(size[1], self.layout.map.height - 16 - cascade))
        window = UIWindow(
            pygame.Rect(
                min(w - size[0] - 10, self.layout.map.x + 40 + cascade), BAR + 12 + cascade, *size
            ),
            self.manager,
            window_display_title=title,
            object_id=object_id,
        )
        UITextBox(
            body, pygame.Rect(0, 0, size[0] - 32, size[1] - 60), self.manager, container=window
        )
        self.windows.append(self.keep(window))
        return window

    def open_help(self) -> None:
        self._window(tr("help_title"), tr("help_body"), "#help_window", (460, 300))

    def open_country(self, country: str) -> None:
        d = self.session.view.country(country)
        provenance = (
            "<br>".join(f"{k}: {F.count(v)}" for k, v in d.stock_by_provenance.items() if v >= 1)
            or tr("country_none")
        )
        labs = (
            "<br>".join(
                tr(
                    "country_lab_frontier",
                    name=lab.name,
                    compute=F.count(lab.compute_h100e),
                    capability=F.number(lab.capability),
                )
                if lab.frontier and not math.isnan(lab.capability)
                else tr("country_lab", name=lab.name, compute=F.count(lab.compute_h100e))
                for lab in d.labs
            )
            or tr("country_none")
        )
        body = tr(
            "country_body",
            name=d.name,
            bloc=self.session.view.bloc_names[d.bloc],
            tier=d.tier,
            customs=f"{d.customs:.1f}",
            provenance=provenance,
            labs=labs,
            policies="<br>".join(d.policies),
        )
        self._window(tr("country_title", name=d.name), body, f"#country_{country}")

    def open_why(self, bloc: str) -> None:
        s = self.session
        sources = s.view.compute_sources(bloc)
        lines = []
        for who, shares in sources.items():
            parts = ", ".join(
                f"{k} {F.percent(v, 0)}"
                for k, v in sorted(shares.items(), key=lambda kv: -kv[1])
                if v >= 0.005
            )
            lines.append(f"{tr('why_source_bloc') if who == 'bloc' else who}: {parts}")
        now, then = (
            s.view.latest("frontier_capability", bloc),
            self.ghost_view.latest("frontier_capability", bloc),
        )
        gap_now, gap_then = (
            s.view.latest("gap_months", bloc),
            self.ghost_view.latest("gap_months", bloc),
        )
        ghost = (
            tr(
                "why_ghost",
                now=F.number(now),
                then=F.number(then),
                gap_now=F.number(gap_now),
                gap_then=F.months(gap_then),
            )
            if np.isfinite(now)
            else tr("why_ghost_none")
        )
        seen = {id(d) for d in s.decisions_seen()}  # while hidden: this team's own only
        moved = [
            d
            for d in s.decisions_that_mattered(10)
            if d.effect and bloc in d.effect and id(d) in seen
        ][:5]
        decisions = "<br>".join(
            tr(
                "why_decision",
                date=d.date,
                change=s.view.describe(d.change),
                effect=F.signed(d.effect[bloc]),
            )
            for d in moved
        )
        body = tr(
            "why_body",
            bloc=s.view.bloc_names[bloc],
            sources="<br>".join(lines),
            ghost=ghost,
            decisions=decisions or tr("why_no_decisions"),
            unknowns=_unknowns(s.fan, bloc),
        )
        self._window(
            tr("why_title", bloc=s.view.bloc_names[bloc]),
            body,
            f"#why_window_{bloc}",
            (480, 360),
        )

    # ------------------------------------------------------------------ the facilitator
    def toggle_facilitator(self) -> None:
        """The teacher's window: open it, or close it if open."""
        if self.fac_window is not None and self.fac_window.alive():
            self.fac_window.kill()
            self.fac_window = None
            return
        self.open_facilitator()

    def open_facilitator(self) -> None:
        s = self.session
        m = self.manager
        events = s.allowed_events
        specs = default_events()
        width = 340
        height = min(150 + 38 * len(events), self.app.size[1] - BAR - 20)
        rect = pygame.Rect(self.layout.map.right - width - 12, BAR + 8, width, height)
        window = UIWindow(
            rect, m, window_display_title=tr("facilitator_title"), object_id="#facilitator_window"
        )
        self.fac_window = self.keep(window)
        inner = width - 32
        self.fac_buttons = {
            "pause": UIButton(
                pygame.Rect(0, 4, inner, 32),
                tr("fac_resume") if self.frozen else tr("fac_pause"),
                m,
                container=window,
                object_id="#fac_pause",
            )
        }
        UILabel(pygame.Rect(0, 42, inner, 22), tr("fac_events"), m, container=window)
        y = 66
        for ev in events:
            spec = specs[ev]
            self.fac_buttons[f"event_{ev}"] = UIButton(
                pygame.Rect(0, y, inner, 32),
                spec.name,
                m,
                container=window,
                object_id=f"#event_{ev}",
                tool_tip_text=tr("fac_event_tip", headline=spec.headline, mirrors=spec.mirrors),
            )
            y += 36
        self.fac_buttons["hidden"] = UIButton(
            pygame.Rect(0, y + 4, inner, 32),
            tr("fac_reveal") if s.hidden else tr("fac_hide"),
            m,
            container=window,
            object_id="#fac_hidden",
        )
        self.fac_status = UILabel(
            pygame.Rect(0, y + 40, inner, 22), "", m, container=window, object_id="#fac_status"
        )

    def _facilitator_event(self, event: pygame.event.Event) -> bool:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_F9:
            self.toggle_facilitator()
            return True
        if event.type == pygame_gui.UI_WINDOW_CLOSE and event.ui_element is self.fac_window:
            self.fac_window = None
            return True
        if event.type != pygame_gui.UI_BUTTON_PRESSED:
            return False
        key = next((k for k, b in self.fac_buttons.items() if b is event.ui_element), None)
        if key is None:
            if event.ui_element is self.buttons.get("facilitator"):
                self.toggle_facilitator()
                return True
            return False
        s = self.session
        if key == "pause":
            self.freeze(not self.frozen)
        elif key == "hidden":
            s.set_hidden(not s.hidden)
            self.fac_buttons["hidden"].set_text(tr("fac_reveal") if s.hidden else tr("fac_hide"))
            self._fac_say(tr("fac_hidden_on") if s.hidden else tr("fac_hidden_off"))
            self._refresh_texts()
        elif key.startswith("event_"):
            self.inject(key.removeprefix("event_"))
        return True

    def inject(self, event_id: str) -> None:
        try:
            self.session.inject(event_id)
        except (InputError, RuntimeError, ValueError) as exc:
            self.error(str(exc))
            return
        self._fac_say(tr("fac_injected", name=default_events()[event_id].name))
        self.charts_dirty = True
        self._after_decision()

    def freeze(self, on: bool) -> None:
        """Pause everyone: time stops and no team can move a lever until the facilitator
        resumes."""
        self.frozen = bool(on)
        if on:
            self.paused = True
        if "pause" in self.fac_buttons:
            self.fac_buttons["pause"].set_text(tr("fac_resume") if on else tr("fac_pause"))
        self._apply_freeze()
        self._set_speed_buttons()
        self._refresh_texts()

    def _apply_freeze(self) -> None:
        for key, b in self.buttons.items():
            if key in ("facilitator", "help", "save"):
                continue
            if self.frozen:
                b.disable()
            elif key != "undo":
                b.enable()
        if self.frozen:
            self.panel.container.disable()
        else:
            self.panel.container.enable()
            self._set_speed_buttons()

    def _fac_say(self, text: str) -> None:
        if self.fac_status is not None and self.fac_status.alive():
            self.fac_status.set_text(text)
        self.show_message(text)

    def _draw_frozen(self, surface: pygame.Surface) -> None:
        r = self.layout.charts  # below the map: the facilitator's window stays clear
        big = font(30, bold=True)
        title = big.render(tr("fac_frozen"), True, palette.SELECTED)
        hint = self.small.render(tr("fac_frozen_hint"), True, (230, 230, 230))
        w = max(title.get_width(), hint.get_width()) + 48
        box = pygame.Rect(0, 0, w, title.get_height() + hint.get_height() + 36)
        box.center = r.center
        shade = pygame.Surface(box.size, pygame.SRCALPHA)
        shade.fill((10, 12, 18, 225))
        surface.blit(shade, box)
        pygame.draw.rect(surface, palette.SELECTED, box, 2)
        surface.blit(title, (box.centerx - title.get_width() // 2, box.y + 12))
        surface.blit(hint, (box.centerx - hint.get_width() // 2, box.y + 20 + title.get_height()))


def _gray_note(changes: list[tuple[str, str]]) -> str:
    """Which chip the gray-price line prices, and since when: 'H100, then B200 from 2025-03'."""
    if not changes:
        return ""
    if len(changes) == 1:
        return tr("gray_note_one", chip=changes[0][1])
    before, (date, chip) = changes[-2][1], changes[-1]
    return tr("gray_note_changed", before=before, chip=chip, date=date)


def _fan_note(fan: Fan | None, current: bool) -> str:
    """What the shading is: futures over what we don't know (or the first of them, while the
    rest are computed), or an older projection (from the month before its first projected
    month) while the current one is computed."""
    if fan is None:
        return ""
    if not current and fan.dates:
        return tr("fan_stale", date=format_month(parse_month(fan.dates[0]) - 1))
    if not fan.complete:
        return tr("fan_first_look", n=fan.seeds, of=fan.planned)
    return tr("fan_ready" if fan.uncertain else "fan_seeds_only", n=fan.seeds)


def _unknowns(fan: Fan | None, bloc: str) -> str:
    """The drawn parameters that go most with the bloc's projected capability at the end."""
    drivers = fan.drivers.get(bloc, []) if fan is not None else []
    if not drivers:
        return tr("why_no_unknowns")
    lines = [
        tr("why_unknown", name=name, direction="raises" if rho > 0 else "lowers")
        for name, rho in drivers
    ]
    return "<br>".join([*lines, tr("why_unknowns_basis", n=fan.seeds if fan else 0)])
