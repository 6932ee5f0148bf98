"""The run's parameter values as attributes (`p.mfu`), merged from assets/data/parameters.yaml,
then the scenario, then `--set`: one flat namespace, so a phase reads `p.name` and a test can
check that every parameter in the data is read somewhere."""

from __future__ import annotations


class Params:
    def __init__(self, values: dict[str, float]) -> None:
        self.__dict__.update({k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)
