"""Mesa agents of the chip war: vendors, labs, governments and brokers. They hold the decisions;
bulk quantities live in the numpy ledger and tables (game/core/ledger.py)."""

from agents.broker import Broker
from agents.government import Government
from agents.lab import AILab
from agents.vendor import ChipVendor

__all__ = ["AILab", "Broker", "ChipVendor", "Government"]
