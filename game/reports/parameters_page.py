"""The table of every parameter, generated from assets/data/parameters.yaml so that the docs
never drift from the data: docs/parameters.md is this table, and a test keeps it current
(`python tools/parameters_table.py` rewrites it)."""

from __future__ import annotations

from game.config.world import WorldData

# sources that mean "no published figure": the parameter is an assumption of the model
UNSOURCED = ("assumption", "working_estimate", "no_published_rate")
HEADER = (
    "# Parameters\n\n"
    "Generated from `assets/data/parameters.yaml` by `python tools/parameters_table.py`; a test "
    "fails when this page and the data differ. Each parameter's value, the range the "
    "sensitivity analysis and sampled runs draw from (docs/model.md, section 8.1), its unit "
    "and what it stands for. Section 1 lists the assumptions: no published figure stands "
    "behind them (`assumption`; `working_estimate` and `no_published_rate` are assumptions "
    "informed by the record). Section 2 lists the parameters that cite a source; the sources "
    "themselves are at the top of the data file.\n"
)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rows(world: WorldData, sourced: bool) -> list[str]:
    rows = [
        "| parameter | value | range | unit | source | what it is |",
        "|---|---|---|---|---|---|",
    ]
    for name, spec in world.parameters.items():
        if (spec.source not in UNSOURCED) != sourced:
            continue
        lo, hi = spec.range
        drawn = "" if spec.drawn else " (not drawn)"
        rows.append(
            f"| `{name}` | {spec.value:g} | {lo:g} – {hi:g}{drawn} | {_cell(spec.unit)} | "
            f"{spec.source} | {_cell(spec.description)} |"
        )
    return rows


def parameters_markdown(world: WorldData) -> str:
    """The whole page: assumptions first, then the sourced parameters."""
    n_unsourced = sum(p.source in UNSOURCED for p in world.parameters.values())
    parts = [
        HEADER,
        f"## 1. Assumptions ({n_unsourced} of {len(world.parameters)})\n",
        "\n".join(_rows(world, sourced=False)),
        "",
        f"## 2. Sourced ({len(world.parameters) - n_unsourced})\n",
        "\n".join(_rows(world, sourced=True)),
    ]
    return "\n".join(parts) + "\n"
