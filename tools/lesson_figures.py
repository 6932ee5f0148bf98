"""Replays the games the lesson pages and docs/teaching.md describe and prints the figures they
quote, so that a page can be re-measured after a model change with one command:

    SDL_VIDEODRIVER=dummy PYTHONPATH=. python tools/lesson_figures.py [PAGE ...] [--seed N]

PAGE: leaky_borders, threshold_game, role_play, compute_decides, decoupling, teaching (default:
all). --seed replays at another seed than the lesson's (the pages' bracketed ranges).

Every game is played through GameSession.from_lesson, as a class plays it: each team decides
only in its own turn (a move dated outside that team's turn is refused), a facilitator event is
injected at its date, the other teams do nothing. A move's date is the month it takes effect.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from game.config.dates import format_month
from game.config.lesson import load_lesson
from game.core.ledger import PROVENANCES
from game.play.session import GameSession

# (date the move takes effect, role or "event", lever or event id, value, target)
Move = tuple[str, str, str, object, object]
FIVE_TRANSIT = ("singapore", "malaysia", "uae", "vietnam", "taiwan")


@dataclass
class Game:
    session: GameSession
    via: list[np.ndarray] = field(default_factory=list)  # smuggled_via after each month

    @property
    def model(self):
        return self.session.model

    def china(self):
        r = self.model.results()
        return r[r.bloc == "china"].reset_index(drop=True)

    def bloc(self, b: str):
        r = self.model.results()
        return r[r.bloc == b].reset_index(drop=True)

    def smuggled(self) -> int:
        return int(self.china().chips_smuggled.sum())

    def seized(self) -> int:
        return int(self.china().chips_seized.sum())

    def compute(self) -> float:
        return float(self.china().compute_h100e.iloc[-1])

    def gap(self, months: int | None = None) -> float:
        g = self.china().gap_months
        return float((g if months is None else g.iloc[:months]).mean())

    def gap_end(self) -> float:
        return float(self.china().gap_months.iloc[-1])

    def shares(self) -> dict[str, float]:
        last = self.china().iloc[-1]
        return {p: float(last[f"{p}_share"]) for p in PROVENANCES}

    def routes(self, start: int = 0, end: int | None = None) -> dict[str, int]:
        """Smuggled chips into China by transit country over months [start, end)."""
        end = len(self.via) if end is None else end
        before = self.via[start - 1] if start > 0 else np.zeros_like(self.via[0])
        d = self.via[end - 1] - before
        return {c: int(v) for c, v in zip(self.model.country_ids, d, strict=True) if v}

    def nvidia(self, bloc: str | None = None) -> float:
        """NVIDIA's revenue over the game, $bn (to one bloc, or in all)."""
        s = self.model.sales()
        s = s[s.vendor == "nvidia"]
        if bloc:
            s = s[s.bloc == bloc]
        return float(s.revenue_usd.sum()) / 1e9

    def lab(self, name: str) -> tuple[float, dict[str, float], float]:
        """A lab's H100e held at the end, its shares by provenance, its capability."""
        m = self.model
        i = next(k for k, n in enumerate(m.labs.names) if n.startswith(name))
        held = np.einsum("lcp,c->lp", m.ledger.by_provenance(), m.chips.h100e)[i]
        tot = float(held.sum())
        return tot, {p: float(held[j]) / tot for j, p in enumerate(PROVENANCES)}, float(
            m.labs.capability[i]
        )

    def score(self, role: str) -> float:
        return float(self.session.score(role).value)

    def largest_run(self, bloc: str) -> float:
        return float(self.bloc(bloc).largest_run_flop.iloc[-1])

    def news(self, word: str) -> list[str]:
        return [f"{e['date']} {e['text'][:110]}" for e in self.model.events if word in e["text"]]


def play(lesson: str, moves: Sequence[Move] = (), seed: int | None = None) -> Game:
    s = GameSession.from_lesson(load_lesson(lesson), rng=seed)
    return _run(s, moves)


def _run(s: GameSession, moves: Sequence[Move]) -> Game:
    g = Game(s)
    while not s.finished:
        if s.handoff_due:
            s.next_player()
        date = format_month(s.model.month + 1)  # when a decision made now takes effect
        for when, role, lever, value, target in [m for m in moves if m[0] == date]:
            if role == "event":
                s.inject(lever)
            elif role != s.current_role:
                raise ValueError(f"{role} does not play in {when} ({s.current_role} does)")
            else:
                s.decide(lever, value, target)
        s.step()
        g.via.append(s.model.smuggled_via.copy())
    return g


def pct(new: float, old: float) -> str:
    return f"{100 * (new / old - 1):+.0f}%"


def shares_text(sh: dict[str, float]) -> str:
    return ", ".join(f"{p} {v:.0%}" for p, v in sh.items())


# ---------------------------------------------------------------------------- pages
def leaky_borders(seed: int | None) -> None:
    name = "leaky_borders"
    base = play(name, seed=seed)
    print(f"1. nothing: smuggled {base.smuggled():,} seized {base.seized():,}")
    print(f"   shares at end: {shares_text(base.shares())}")
    print(f"   routes: {base.routes()}")
    print(f"   gap {base.gap():.2f} (end {base.gap_end():.1f}); US {base.score('us'):.1f} "
          f"China {base.score('china'):.1f}; compute {base.compute() / 1e6:.2f}m")
    crack = play(name, [("2024-01", "event", "customs_crackdown", None, None)], seed=seed)
    i = 15  # January 2024 is the game's 16th month (index 15)
    three = ("singapore", "malaysia", "uae")

    def split(g: Game) -> tuple[int, int]:
        r = g.routes(i, i + 6)
        return sum(r.get(c, 0) for c in three), sum(r.get(c, 0) for c in ("taiwan", "row"))

    (a0, b0), (a1, b1) = split(base), split(crack)
    print(f"2. crackdown Jan 2024, Jan-Jun 2024: SG+MY+UAE {a0:,} -> {a1:,}; TW+row {b0:,} -> "
          f"{b1:,}; total {pct(a1 + b1, a0 + b0)}")
    print(f"   whole game: {crack.smuggled():,} vs {base.smuggled():,} "
          f"({pct(crack.smuggled(), base.smuggled())}); routes {crack.routes()}; "
          f"seized {crack.seized():,} vs {base.seized():,} ({pct(crack.seized(), base.seized())})")
    uae = play(name, [("2022-10", "us", "transit_pressure", 3.0, "uae")], seed=seed)
    print(f"3. pressure x3 on UAE: routes {uae.routes()}; total {uae.smuggled():,} "
          f"({pct(uae.smuggled(), base.smuggled())})")
    enf = play(name, [("2022-10", "us", "enforcement", 5.0, None)], seed=seed)
    print(f"4. enforcement x5: smuggled {enf.smuggled():,} ({pct(enf.smuggled(), base.smuggled())})"
          f"; compute {pct(enf.compute(), base.compute())}; gap {base.gap():.2f} -> {enf.gap():.2f}"
          f"; shares {shares_text(enf.shares())}")
    ban = play(name, [("2023-01", "event", "cloud_ban", None, None)], seed=seed)
    print(f"5. cloud ban Jan 2023: compute {pct(ban.compute(), base.compute())}; compliant "
          f"{ban.shares()['compliant']:.0%} vs {base.shares()['compliant']:.0%}; gap "
          f"{ban.gap():.2f} vs {base.gap():.2f}; smuggled {ban.smuggled():,}; largest run "
          f"{ban.largest_run('china'):.2e} vs {base.largest_run('china'):.2e}")
    res = play(name, [("2022-10", "us", "destination", "restricted", c) for c in three], seed=seed)
    print(f"   SG/MY/UAE restricted: compute {pct(res.compute(), base.compute())}; gap "
          f"{res.gap():.2f}; smuggled {res.smuggled():,}; routes {res.routes()}")
    every = [("2022-10", "us", "enforcement", 5.0, None),
             ("2022-10", "us", "remote_access_controls", True, None)]
    every += [("2022-10", "us", "transit_pressure", 3.0, c) for c in FIVE_TRANSIT]
    allg = play(name, every, seed=seed)
    print(f"6. enforcement x5 + pressure x3 on {'/'.join(FIVE_TRANSIT)} + cloud ban: smuggled "
          f"{allg.smuggled():,}; compute {pct(allg.compute(), base.compute())}; "
          f"{shares_text(allg.shares())}; gap {allg.gap():.2f} vs {base.gap():.2f}")
    emb = play(name, every + [("2022-10", "us", "destination", "embargoed", "china")], seed=seed)
    print(f"   ... + embargo: gap {emb.gap():.2f} (end {emb.gap_end():.1f}); US score "
          f"{emb.score('us'):.1f} vs {base.score('us'):.1f}; NVIDIA "
          f"{emb.nvidia() - base.nvidia():+.1f}bn")
    tol = play(name, [("2023-04", "china", "smuggling_tolerance", 0.0, None)], seed=seed)
    print(f"7. China tolerance 0 Apr 2023: smuggled {tol.smuggled():,} "
          f"({pct(tol.smuggled(), base.smuggled())}); compute {pct(tol.compute(), base.compute())}"
          f"; China score {base.score('china'):.1f} -> {tol.score('china'):.1f}; gap "
          f"{tol.gap():.2f}")


def threshold_game(seed: int | None) -> None:
    name = "threshold_game"
    rows = {
        "nothing": [],
        "A800+H800 Oct 2022": [("2022-10", "vendor", "release_variant", True, c)
                               for c in ("A800", "H800")],
        "... and H20": [("2022-10", "vendor", "release_variant", True, c)
                        for c in ("A800", "H800", "H20")],
        "no China variants": [("2022-10", "vendor", "make_compliant_variants", False, None)],
        "US embargo Jan 2023": [("2023-01", "us", "destination", "embargoed", "china")],
    }
    base = None
    for label, moves in rows.items():
        g = play(name, moves, seed=seed)
        base = base or g
        print(f"{label:22} NVIDIA China ${g.nvidia('china'):.1f}bn (all ${g.nvidia():.1f}bn) | "
              f"compute {g.compute() / 1e6:.2f}m ({pct(g.compute(), base.compute())}) | smuggled "
              f"{g.shares()['smuggled']:.0%} | gap {g.gap():.1f} (end {g.gap_end():.1f}) | "
              f"US {g.score('us'):.1f} | run {g.largest_run('china'):.2e}")
    for label, moves in {
        "Oct 2023 rule Jan 2023": [("2023-01", "us", "export_rule", "oct2023", None)],
    }.items():
        g = play(name, moves, seed=seed)
        print(label, *g.news("releases")[:6], sep="\n  ")


def role_play(seed: int | None) -> None:
    name = "role_play"
    base = play(name, seed=seed)

    def line(label: str, g: Game) -> None:
        ds, dsh, dcap = g.lab("DeepSeek")
        print(f"{label}: compute {g.compute() / 1e6:.2f}m | gap {g.gap():.2f} (end "
              f"{g.gap_end():.1f}) | NVIDIA China ${g.nvidia('china'):.1f}bn all "
              f"${g.nvidia():.1f}bn | smuggled {g.smuggled():,} (hubs "
              f"{sum(g.routes().get(c, 0) for c in HUBS):,}) | scores us {g.score('us'):.1f} "
              f"china {g.score('china'):.1f} lab {g.score('lab'):.2f} hubs "
              f"{g.score('transit'):.1f} vendor {g.score('vendor'):.1f} | DeepSeek {ds:,.0f} "
              f"({shares_text(dsh)}) cap {dcap:.1f}")

    line("1 nothing", base)
    line("2 A800+H800 Feb 2023", play(name, [("2023-02", "vendor", "release_variant", True, c)
                                             for c in ("A800", "H800")], seed=seed))
    line("2 H20 Feb 2023", play(name, [("2023-02", "vendor", "release_variant", True, "H20")],
                                seed=seed))
    for v in (0.0, 1.0):
        line(f"3 risk {v}", play(name, [("2023-10", "lab", "risk_appetite", v, None)], seed=seed))
    g = play(name, [("2024-06", "us", "export_rule", "oct2023", None)], seed=seed)
    print("4 Oct 2023 rule June 2024:", *g.news("NVIDIA")[:8], sep="\n  ")
    enf = [("2022-10", "us", "enforcement", 3.0, None)]
    enf += [("2022-10", "us", "transit_pressure", 2.0, c) for c in FIVE_TRANSIT]
    line("5 enforcement x3 + pressure x2", play(name, enf, seed=seed))
    line("6 no variants Feb 2023", play(name, [("2023-02", "vendor", "make_compliant_variants",
                                                False, None)], seed=seed))
    for v in (1.5, 2.0, 3.0):
        g = play(name, [("2024-02", "transit", "transit_customs", v, c) for c in HUBS], seed=seed)
        line(f"7 hubs customs x{v} Feb 2024", g)
    strict = [("2022-10", "us", "export_rule", "oct2023", None),
              ("2022-10", "us", "destination", "embargoed", "china"),
              ("2022-10", "us", "hbm_controls", True, None)]
    line("roles: embargo + Oct 2023 + HBM", play(name, strict, seed=seed))
    line("8 Malaysia restricted", play(name, [("2022-10", "us", "destination", "restricted",
                                               "malaysia")], seed=seed))


HUBS = ("singapore", "malaysia", "uae", "vietnam")


def compute_decides(seed: int | None) -> None:
    name = "compute_decides"
    emb = [("2022-10", "us", "destination", "embargoed", "china")]
    ban = [("2022-10", "us", "remote_access_controls", True, None)]
    enf = [("2022-10", "us", "enforcement", 5.0, None)]
    enf += [("2022-10", "us", "transit_pressure", 3.0, c) for c in FIVE_TRANSIT]
    rows = {
        "nothing": [],
        "Oct 2022 rule": [("2022-10", "us", "export_rule", "oct2022", None)],
        "Oct 2023 rule": [("2022-10", "us", "export_rule", "oct2023", None)],
        "embargo": emb,
        "embargo + cloud ban": emb + ban,
        "all + enforcement": emb + ban + enf,
        "roles: Oct 2023 + embargo + HBM": [("2022-10", "us", "export_rule", "oct2023", None)]
        + emb + [("2022-10", "us", "hbm_controls", True, None)],
        "roles: Oct 2022 + model access 1": [("2022-10", "us", "export_rule", "oct2022", None),
                                             ("2022-10", "us", "model_access_controls", 1.0, None)],
    }
    for label, moves in rows.items():
        g = play(name, moves, seed=seed)
        us = g.bloc("us")
        eff = g.china().algorithmic_efficiency.iloc[-1] / us.algorithmic_efficiency.iloc[-1] - 1
        print(f"{label:20} compute {g.compute() / 1e6:.2f}m | US/China "
              f"{us.compute_h100e.iloc[-1] / g.compute():.1f}x | run "
              f"{g.largest_run('us') / g.largest_run('china'):.1f}x | gap {g.gap():.1f} (end "
              f"{g.gap_end():.1f}) | eff {eff:+.0%} | NVIDIA China ${g.nvidia('china'):.1f}bn "
              f"all ${g.nvidia():.0f}bn | US {g.score('us'):.1f} China {g.score('china'):.1f} | "
              f"{shares_text(g.shares())}")
        if label == "Oct 2022 rule":
            gm = g.china().set_index("date").gap_months
            print(f"   gap Oct 2022 {gm['2022-10']:.1f}, 2023 {gm['2023-01':'2023-12'].min():.1f}-"
                  f"{gm['2023-01':'2023-12'].max():.1f}, Mar 2024 {gm['2024-03']:.1f}, Apr 2024 "
                  f"{gm['2024-04']:.1f}; US frontier {us.frontier_capability.iloc[0]:.0f} -> "
                  f"{us.frontier_capability.iloc[-1]:.0f}")
            oct22 = g
    # the packaging fire in April 2023 under the October 2022 rule, against the rule alone
    fire = play(name, rows["Oct 2022 rule"] + [("2023-04", "event", "packaging_fire", None, None)],
                seed=seed)
    a, b = oct22.bloc("us"), fire.bloc("us")
    dc = b.compute_h100e / a.compute_h100e - 1
    dcap = b.frontier_capability - a.frontier_capability
    gray = fire.china().gray_price_usd / oct22.china().gray_price_usd - 1
    i = int(np.argmin(dc.values))
    print(f"packaging fire Apr 2023: US compute at worst {dc.min():+.0%} ({a.date.iloc[i]}), "
          f"Apr 2024 {dc[a.date == '2024-04'].iloc[0]:+.0%}; US best model at worst "
          f"{dcap.min():+.2f} points; gray price up to {gray.max():+.0%}")
    china_rows = {
        "China: subsidy 0.8 Apr 2023": [("2023-04", "china", "domestic_subsidy", 0.8, None)],
        "China: subsidy 0.8 + mandate 0.5 Apr 2023": [
            ("2023-04", "china", "domestic_subsidy", 0.8, None),
            ("2023-04", "china", "buy_domestic_mandate", 0.5, None)],
        "US Oct 2022 rule, China subsidy 0.8 Apr 2023": rows["Oct 2022 rule"] + [
            ("2023-04", "china", "domestic_subsidy", 0.8, None)],
        "US model access 1 alone": [("2022-10", "us", "model_access_controls", 1.0, None)],
    }
    for label, moves in china_rows.items():
        g = play(name, moves, seed=seed)
        print(f"{label:45} gap {g.gap():.1f} | US {g.score('us'):.1f} China {g.score('china'):.1f}")


def decoupling(seed: int | None) -> None:
    name = "decoupling"
    hbm = [("2023-10", "us", "hbm_controls", True, None),
           ("2023-10", "us", "fab_tool_controls", 1.0, None)]
    sub = [("2022-10", "china", "domestic_subsidy", 0.8, None)]
    man = [("2022-10", "china", "buy_domestic_mandate", 0.8, None)]
    rows = {
        "nobody": [], "US HBM+tools Oct 2023": hbm, "subsidy 0.8": sub,
        "subsidy+mandate": sub + man, "subsidy + US": sub + hbm, "subsidy+mandate + US":
        sub + man + hbm,
        "roles: US Oct 2023 rule": [("2023-10", "us", "export_rule", "oct2023", None)],
        "roles: US Oct 2023 rule + HBM+tools": [("2023-10", "us", "export_rule", "oct2023", None)]
        + hbm,
        "roles: subsidy 0.4": [("2022-10", "china", "domestic_subsidy", 0.4, None)],
        "roles: subsidy 0.8 + mandate 0.5": sub + [("2022-10", "china", "buy_domestic_mandate",
                                                    0.5, None)],
        "roles: subsidy 0.8 + mandate 0.2": sub + [("2022-10", "china", "buy_domestic_mandate",
                                                    0.2, None)],
        "roles: mandate 0.8 alone": man,
        "roles: mandate 0.5 alone": [("2022-10", "china", "buy_domestic_mandate", 0.5, None)],
        "5: SMIC outage Jan 2024 in subsidy+mandate": sub + man + [
            ("2024-01", "event", "smic_outage", None, None)],
        "5: China mineral controls 1": [("2022-10", "china", "mineral_controls", 1.0, None)],
    }
    base = None
    for label, moves in rows.items():
        g = play(name, moves, seed=seed)
        base = base or g
        c, us = g.china(), g.bloc("us")
        y24 = c.index[c.date == "2024-12"][0]
        eff = c.effective_compute_h100e.iloc[y24] / c.compute_h100e.iloc[y24]
        year = c.date.str[:4]
        s = g.model.sales()
        s = s[s.vendor.isin(["huawei", "cambricon"])]
        out = s.groupby(s.date.str[:4]).units.sum() / 1e6
        r24 = (us.largest_run_flop.iloc[y24] / c.largest_run_flop.iloc[y24])
        print(f"{label:22} compute {c.compute_h100e.iloc[y24] / 1e6:.2f}/"
              f"{g.compute() / 1e6:.1f}m | domestic {c.domestic_share.iloc[y24]:.0%}/"
              f"{c.domestic_share.iloc[-1]:.1%} | gap Dec 2024 {c.gap_months.iloc[y24]:.1f}, "
              f"2024 mean {c.gap_months[year == '2024'].mean():.1f}, 2023 mean "
              f"{c.gap_months[year == '2023'].mean():.1f} / 2030 mean "
              f"{c.gap_months[year == '2030'].mean():.1f}, Dec 2030 {g.gap_end():.1f} | eff/H100e "
              f"{eff:.2f} | run US/China 2024 {r24:.1f}x 2030 "
              f"{g.largest_run('us') / g.largest_run('china'):.1f}x | China "
              f"{g.score('china'):.1f} US {g.score('us'):.1f} | US compute 2030 "
              f"{pct(us.compute_h100e.iloc[-1], base.bloc('us').compute_h100e.iloc[-1])}")
        print("   domestic chips sold, million: " + ", ".join(f"{y} {v:.2f}" for y, v in
                                                            out.items()))


def teaching(seed: int | None) -> None:
    """docs/teaching.md's example: the historical scenario, the US played, seed 2022."""
    moves = [("2022-10", "us", "export_rule", "oct2023", None),  # first: a rule sets tiers
             ("2022-10", "us", "destination", "embargoed", "china"),
             ("2022-10", "us", "hbm_controls", True, None)]
    for label, mv in (("nothing", []), ("embargo + Oct 2023 + HBM", moves)):
        s = GameSession("historical", ["us"], "normal", 2022 if seed is None else seed)
        g = _run(s, mv)
        print(f"{label:26} mean gap 2 years {g.gap(24):.1f}, 4 years {g.gap(48):.1f}")


PAGES: dict[str, Callable[[int | None], None]] = {
    "leaky_borders": leaky_borders,
    "threshold_game": threshold_game,
    "role_play": role_play,
    "compute_decides": compute_decides,
    "decoupling": decoupling,
    "teaching": teaching,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="*", default=[])
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    for p in a.pages or PAGES:
        print(f"== {p} (seed {a.seed or 'the lesson'})")
        PAGES[p](a.seed)


if __name__ == "__main__":
    main()
