"""China's high-bandwidth memory, in stacks: what its chip vendors may fit to the accelerators
they make once HBM exports are controlled.

Two sources: the stockpile put aside while exports were open (Samsung's HBM, bought before the
December 2024 control: a control imposed earlier leaves less put aside), and CXMT's own output,
growing toward its ceiling, slowed by tool and HBM controls and sped by the subsidy. Vendors
spread the stockpile over `hbm_stockpile_runway_months` rather than spend it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.config.dates import parse_month
from game.core.fab import growth_factor, logistic_step
from game.core.params import Params

CXMT_REFERENCE = "2026-01"  # cxmt_hbm_stacks_2026 is CXMT's HBM output at the start of 2026


@dataclass
class HbmSupply:
    stockpile: float  # stacks put aside
    domestic: float  # CXMT's stacks a month

    @classmethod
    def at_start(cls, p: Params, start: int) -> HbmSupply:
        """Nothing put aside yet; CXMT where its unslowed path passes cxmt_hbm_stacks_2026."""
        months_to_reference = parse_month(CXMT_REFERENCE) - start
        domestic = logistic_step(
            p.cxmt_hbm_stacks_2026,
            p.cxmt_hbm_ceiling,
            float(np.log(p.cxmt_hbm_growth)),
            -months_to_reference,
        )
        return cls(stockpile=0.0, domestic=domestic)

    def grow(
        self, p: Params, controlled: bool, fab_controls: float, subsidy: float, first: bool
    ) -> None:
        """One month: the stockpile grows while exports are open; CXMT grows from the second
        month of the run (its first month is where at_start put it)."""
        if not controlled:
            bought = p.hbm_stockpile_stacks / p.hbm_stockpile_months
            self.stockpile = min(p.hbm_stockpile_stacks, self.stockpile + bought)
        if first:
            return
        f = growth_factor(
            p.fab_tool_growth_penalty * fab_controls + p.hbm_control_growth_penalty * controlled,
            p.subsidy_capacity_effect * subsidy,
        )
        log_g = float(np.log(p.cxmt_hbm_growth)) * f
        self.domestic = logistic_step(self.domestic, p.cxmt_hbm_ceiling, log_g, 1.0)

    def available(self, runway_months: float) -> float:
        """Stacks China's vendors may use this month: CXMT's output and the month's share of
        the stockpile."""
        return self.domestic + self.stockpile / runway_months

    def draw(self, stacks_used: float) -> None:
        """The stockpile gives what this month's chips used beyond CXMT's output."""
        self.stockpile = max(0.0, self.stockpile - max(0.0, stacks_used - self.domestic))
