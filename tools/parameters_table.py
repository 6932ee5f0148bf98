"""Rewrite docs/parameters.md from assets/data/parameters.yaml (a test checks they agree).

    python tools/parameters_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game.config.files import atomic_write_bytes  # noqa: E402
from game.config.world import default_world_data  # noqa: E402
from game.reports.parameters_page import parameters_markdown  # noqa: E402

if __name__ == "__main__":
    target = ROOT / "docs" / "parameters.md"
    atomic_write_bytes(target, parameters_markdown(default_world_data()).encode())
    print(target)
