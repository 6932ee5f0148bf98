"""Silicon Curtain: the simulation engine (no pygame below game/ui)."""
