"""Running the command line as a user does, for the CLI tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGS...` from the project folder, output captured as text."""
    return subprocess.run(
        [sys.executable, "main.py", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# A sweep small enough for a test: 2 policies x 2 draws x 2 seeds, 8 months each.
SMALL_EXPERIMENT = """\
name: small
description: "Two enforcement levels, two draws of detectability, two seeds."
scenario: historical
months: 8
levers:
  enforcement: [0.5, 3.0]
uncertainties:
  smuggling_detection: [0.02, 0.3]
design: lhs
samples: 2
replications: 2
seed: 7
"""
