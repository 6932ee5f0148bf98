"""The chip catalogue as arrays (one entry per chip), with spare rows for the compliant variants
that vendors design during a run. TPP and performance density are computed here, as the BIS
rules define them, never stored in the data."""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from game.config.dates import parse_month
from game.config.world import WorldData

BITS_BF16 = 16  # TPP = dense TOPS x bit length of the operation (3A090 technical note)
NEVER = 10**7  # a month index after any horizon
SPARE_SLOTS = 12  # room for variants designed during a run
REFERENCE_CHIP = "H100"


# Catalogues as built, by world object and vendor order (world, the catalogue never handed out):
# building one reads every chip's record and dates, and a projection fan builds 32 models of
# one world. A few worlds at most (a test may build its own): emptied when full.
_BUILT: dict[tuple[int, tuple[str, ...]], tuple[WorldData, ChipTable]] = {}
_BUILT_MAX = 8


class ChipTable:
    """Specs of every chip, column-wise. Mutable only by `add_variant` (vendors) and
    `available_from` (vendors release chips); everything else is fixed at load."""

    NUMERIC = (
        "tflops",
        "memory_gb",
        "bandwidth",
        "interconnect",
        "die_area",
        "price",
        "smuggling_difficulty",
    )

    def __init__(self, world: WorldData, vendor_ids: list[str]) -> None:
        """The catalogue of `world` at load: the columns of one built before for the same world
        object (frozen, shared by every model of a process) and vendors, each copied, as every
        model writes its own (variants, releases); else built, and a copy kept."""
        key = (id(world), tuple(vendor_ids))
        kept = _BUILT.get(key)
        if kept is None or kept[0] is not world:
            built = ChipTable.__new__(ChipTable)
            built._build(world, vendor_ids)
            if len(_BUILT) >= _BUILT_MAX:
                _BUILT.clear()
            _BUILT[key] = kept = (world, built)
        for name, value in kept[1].__dict__.items():
            setattr(self, name, value.copy() if isinstance(value, np.ndarray | list) else value)

    def _build(self, world: WorldData, vendor_ids: list[str]) -> None:
        """The columns read from the world data (the constructor's, before any is kept)."""
        chips = world.chips
        n = len(chips) + SPARE_SLOTS
        self.n_catalogue = len(chips)
        self.ecosystem_ids = list(world.ecosystems)
        self.ecosystem_base = np.array([world.ecosystems[e].factor for e in self.ecosystem_ids])
        self.ids: list[str] = [c.id for c in chips] + [""] * SPARE_SLOTS
        self.names: list[str] = [c.name for c in chips] + [""] * SPARE_SLOTS
        self.designed_for: list[str | None] = [c.designed_for for c in chips] + [None] * SPARE_SLOTS
        self.used = np.zeros(n, bool)
        self.used[: len(chips)] = True
        self.vendor = np.full(n, -1, np.int64)
        self.ecosystem = np.zeros(n, np.int64)
        self.variant_of = np.full(n, -1, np.int64)
        self.released = np.full(n, NEVER, np.int64)  # month index of first sale (real date)
        self.available_from = np.full(n, NEVER, np.int64)  # when the model lets it be sold
        self.end_of_sale = np.full(n, NEVER, np.int64)
        for name in self.NUMERIC:
            setattr(self, name, np.zeros(n))
        id_index = {c.id: i for i, c in enumerate(chips)}
        for i, c in enumerate(chips):
            self.vendor[i] = vendor_ids.index(c.vendor)
            self.ecosystem[i] = self.ecosystem_ids.index(c.ecosystem)
            self.variant_of[i] = id_index[c.variant_of] if c.variant_of else -1
            self.released[i] = parse_month(c.released)
            # Variants are templates: a vendor releases them when a rule makes them worth it.
            self.available_from[i] = NEVER if c.variant_of else self.released[i]
            self.end_of_sale[i] = parse_month(c.end_of_sale) if c.end_of_sale else NEVER
            self.tflops[i] = c.dense_bf16_tflops
            self.memory_gb[i] = c.memory_gb
            self.bandwidth[i] = c.memory_bandwidth_tbps
            self.interconnect[i] = c.interconnect_gbps
            self.die_area[i] = c.die_area_mm2
            self.price[i] = c.price_usd
            self.smuggling_difficulty[i] = c.smuggling_difficulty
        # Spare rows: placeholders never on sale, so whole-array arithmetic needs no masks.
        self.die_area[~self.used] = 1.0
        self.price[~self.used] = 1.0
        self.smuggling_difficulty[~self.used] = 1.0
        self.vendor[~self.used] = 0
        self.reference = self.ids.index(REFERENCE_CHIP)
        # Bumped when a chip's specs change (add_variant, load_state), not by `available_from`:
        # what is derived from the specs alone (the rule engine's classes, purchase values) is
        # kept until it moves.
        self.revision = 0
        # on_sale's: (month, revision, available_from's bytes, answer, sorted change months)
        self._on_sale: tuple[int, int, bytes, np.ndarray, list[int]] | None = None
        self._turns_over: tuple[tuple[int, bytes], frozenset[int]] | None = None
        self._owned_by: tuple[tuple[int, int], np.ndarray] | None = None
        self._counted_by: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None
        self._h100e: tuple[tuple[int, int], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ derived columns
    @property
    def tpp(self) -> np.ndarray:
        return self.tflops * BITS_BF16

    @property
    def density(self) -> np.ndarray:
        return self.tpp / self.die_area

    @property
    def h100e(self) -> np.ndarray:
        """Dense BF16 throughput relative to an H100: the unit of installed compute. Read by
        the phases a dozen times a month and moved only with the specs, so kept until the
        revision moves (read-only: every caller shares it)."""
        key = (self.revision, id(self.tflops))
        if self._h100e is None or self._h100e[0] != key:
            out = self.tflops / self.tflops[self.reference]
            out.flags.writeable = False
            self._h100e = (key, out)
        return self._h100e[1]

    def on_sale(self, month: int) -> np.ndarray:
        """[chip] on sale in `month`. Asked a dozen times a month by the phases, so the last
        answer is kept, keyed on the revision (`used`, `end_of_sale`) and the contents of
        `available_from` (which vendors write in place when they release a chip); it is
        read-only, as it is shared by every caller until the key moves. A new month whose
        chips on sale are those of the kept one (no release or end of sale in between, as
        the kept change months tell) is given the same array: callers keyed on its identity
        (ChipVendor.remember_markets, counted_by) see that nothing moved."""
        raw = self.available_from.tobytes()
        kept = self._on_sale
        if kept is not None and kept[1] == self.revision and kept[2] == raw:
            if kept[0] == month:
                return kept[3]
            changes = kept[4]
            lo, hi = (kept[0], month) if kept[0] < month else (month, kept[0])
            i = bisect.bisect_right(changes, lo)
            if i == len(changes) or changes[i] > hi:  # none in (lo, hi]: the same chips
                self._on_sale = (month, kept[1], raw, kept[3], changes)
                return kept[3]
        else:
            # on_sale(m) moves from m - 1 only where a chip's available_from or end_of_sale is m
            changes = sorted(set(self.available_from.tolist()) | set(self.end_of_sale.tolist()))
        self._on_sale = (month, self.revision, raw, self.on_sale_reference(month), changes)
        self._on_sale[3].flags.writeable = False
        return self._on_sale[3]

    def on_sale_reference(self, month: int) -> np.ndarray:
        """[chip] on sale in `month`, made anew: the rule, which on_sale's kept array gives."""
        return self.used & (self.available_from <= month) & (month < self.end_of_sale)

    def turns_over(self, month: int) -> bool:
        """Whether some chip goes on sale or leaves sale in `month`: every vendor asks it each
        month (a variant may be due). The months in which one does are kept, keyed on the
        revision and the contents of `available_from` (on_sale's key but the month, which
        moves every month while they seldom do)."""
        key = (self.revision, self.available_from.tobytes())
        if self._turns_over is None or self._turns_over[0] != key:
            months = frozenset(self.available_from.tolist()) | frozenset(self.end_of_sale.tolist())
            self._turns_over = (key, months)
        return month in self._turns_over[1]

    def turns_over_reference(self, month: int) -> bool:
        """turns_over's answer made anew: the rule, which its kept months reproduce."""
        return bool((self.available_from == month).any() or (self.end_of_sale == month).any())

    def owned_by(self, n_vendors: int) -> np.ndarray:
        """[vendor, chip] the chips in use each vendor makes; kept until the revision moves
        (read-only: every caller shares it)."""
        key = (n_vendors, self.revision)
        if self._owned_by is None or self._owned_by[0] != key:
            out = self.used[None, :] & (self.vendor[None, :] == np.arange(n_vendors)[:, None])
            out.flags.writeable = False
            self._owned_by = (key, out)
        return self._owned_by[1]

    def counted_by(self, n_vendors: int, month: int) -> np.ndarray:
        """[vendor, chip] the chips each vendor's output is averaged over (per_chip_all in
        agents/vendor.py): those it has on sale in `month`, or all it makes if it has none on
        sale. Kept until the revision or the chips on sale move (read-only: callers share it):
        on_sale's array is the same object while its chips are (held here, so that no other
        array takes its id)."""
        key = (n_vendors, self.revision)
        on_sale = self.on_sale(month)
        kept = self._counted_by
        if kept is None or kept[0] != key or kept[2] is not on_sale:
            own = self.owned_by(n_vendors)
            selling = own & on_sale[None, :]
            has = selling.any(axis=1)
            out = selling if has.all() else np.where(has[:, None], selling, own)
            out.flags.writeable = False
            self._counted_by = (key, out, on_sale)
        return self._counted_by[1]

    def index(self, chip_id: str) -> int:
        return self.ids.index(chip_id)

    def known_ids(self) -> list[str]:
        return [cid for cid, u in zip(self.ids, self.used, strict=True) if u]

    # ------------------------------------------------------------------ variants
    def add_variant(
        self,
        parent: int,
        chip_id: str,
        name: str,
        tflops: float,
        interconnect: float,
        price: float,
        month: int,
    ) -> int:
        free = np.flatnonzero(~self.used)
        if free.size == 0:
            raise RuntimeError("no spare chip slots left for a new variant")
        i = int(free[0])
        self.revision += 1
        self.used[i] = True
        self.ids[i], self.names[i] = chip_id, name
        self.vendor[i] = self.vendor[parent]
        self.ecosystem[i] = self.ecosystem[parent]
        self.variant_of[i] = parent
        self.released[i] = self.available_from[i] = month
        # A derated part is cut from the parent's die: it is made as long as the parent is, and
        # no longer (an MI300X derivative is not sold five years after the MI300X).
        self.end_of_sale[i] = self.end_of_sale[parent]
        self.tflops[i] = tflops
        self.interconnect[i] = interconnect
        self.memory_gb[i] = self.memory_gb[parent]
        self.bandwidth[i] = self.bandwidth[parent]
        self.die_area[i] = self.die_area[parent]
        self.price[i] = price
        # the parent's silicon in the parent's systems: as hard to smuggle
        self.smuggling_difficulty[i] = self.smuggling_difficulty[parent]
        return i

    # ------------------------------------------------------------------ state
    ARRAYS = (
        "used",
        "vendor",
        "ecosystem",
        "variant_of",
        "released",
        "available_from",
        "end_of_sale",
    ) + NUMERIC

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        plain = {
            "ids": list(self.ids),
            "names": list(self.names),
            "designed_for": list(self.designed_for),
        }
        return plain, {f"chips.{k}": getattr(self, k).copy() for k in self.ARRAYS}

    def load_state(self, plain: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.ids, self.names = list(plain["ids"]), list(plain["names"])
        self.designed_for = list(plain["designed_for"])
        self.revision += 1
        for k in self.ARRAYS:
            setattr(self, k, arrays[f"chips.{k}"].copy())
