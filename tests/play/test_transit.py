"""The transit hubs' team: its own customs lever, what it does to the smugglers and to the hubs'
data centres, its score, and its seat in the game."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from game.cli import build_parser
from game.config.commands import PolicyChange, check_change
from game.config.errors import CommandError
from game.play.objectives import ROLES, hub_compute, hub_fees_usd, smuggled_through_hubs
from game.play.session import GameSession
from game.sim.model import ChipWarModel
from game.ui.app import App
from game.ui.scenes.play import PlayScene
from tests.ui.test_ui import click, find, pump, reveal

HUBS = ("singapore", "malaysia", "uae", "vietnam")


def _world(customs: float, months: int = 36, rng: int = 1) -> ChipWarModel:
    model = ChipWarModel(rng=rng, months=months)
    for country in HUBS:
        model.apply(PolicyChange("transit", "transit_customs", customs, country))
    model.run()
    return model


@pytest.fixture(scope="module")
def worlds() -> dict[float, ChipWarModel]:
    return {c: _world(c) for c in (1.0, 3.0)}


def test_every_smuggled_chip_is_counted_once_by_the_country_it_passed(worlds) -> None:
    for model in worlds.values():
        results = model.results()
        smuggled = int(results.loc[results.bloc == "china", "chips_smuggled"].sum())
        assert smuggled > 0
        assert int(model.smuggled_via.sum()) == smuggled
        assert (model.smuggled_via >= 0).all()


def test_stricter_hub_customs_let_fewer_chips_through_the_hubs(worlds) -> None:
    lax, strict = worlds[1.0], worlds[3.0]
    assert smuggled_through_hubs(strict) < 0.2 * smuggled_through_hubs(lax)


def test_the_smugglers_move_to_the_routes_the_hubs_do_not_police(worlds) -> None:
    others = [i for i, c in enumerate(worlds[1.0].country_ids) if c not in HUBS]
    assert worlds[3.0].smuggled_via[others].sum() > worlds[1.0].smuggled_via[others].sum()


def test_checks_make_the_hubs_data_centres_smaller(worlds) -> None:
    assert hub_compute(worlds[3.0]) < 0.97 * hub_compute(worlds[1.0])


def test_the_hubs_set_only_their_own_customs() -> None:
    model = ChipWarModel(rng=1, months=2)
    errs = check_change(
        PolicyChange("transit", "transit_customs", 2.0, "china"), model.spec, model.world
    )
    assert errs and "own countries" in errs[0][1]
    errs = check_change(
        PolicyChange("us", "transit_customs", 2.0, "malaysia"), model.spec, model.world
    )
    assert errs and errs[0][0] == "actor"
    session = GameSession("historical", roles=["transit"], rng=1, months=6)
    assert session.lever_targets("transit_customs") == list(HUBS)
    with pytest.raises(CommandError, match="own countries"):
        session.decide("transit_customs", 2.0, "taiwan")


def test_doing_nothing_misses_the_hubs_goal_firm_checks_meet_it_looking_away_does_not() -> None:
    """roles.yaml's measured choices: customs x2 in every hub meets the goal; doing nothing
    falls short; looking away loses most (smuggling doubles and the US restricts a hub)."""
    scores = {}
    for name, customs in (("nothing", None), ("firm", 2.0), ("lax", 0.5)):
        session = GameSession("historical", roles=["transit"], rng=2022, months=48)
        if customs is not None:
            for country in HUBS:
                session.decide("transit_customs", customs, country)
        while not session.finished:
            session.step()
        scores[name] = session.score("transit")
    assert scores["nothing"].value == pytest.approx(85.0)
    assert not scores["nothing"].met, scores["nothing"].text
    assert scores["firm"].met, scores["firm"].text
    assert scores["lax"].value < scores["nothing"].value - 10, scores["lax"].text


def test_the_hubs_earn_fees_on_the_chips_smuggled_through_them(worlds) -> None:
    lax, strict = worlds[1.0], worlds[3.0]
    assert hub_fees_usd(lax) > 0
    assert hub_fees_usd(strict) < 0.5 * hub_fees_usd(lax)  # checks cost the hubs their fees


def test_a_higher_fee_share_earns_the_hubs_more_and_dearer_smuggling() -> None:
    runs = {}
    for share in (0.02, 0.12):
        model = ChipWarModel(rng=1, months=36, overrides={"hub_broker_fee_share": share})
        model.run()
        runs[share] = model
    low, high = runs[0.02], runs[0.12]
    assert hub_fees_usd(high) > 2.0 * hub_fees_usd(low)
    # the fee is a cost the brokers pass on: the gray price rises with it
    assert np.nanmean(_gray_prices(high)) > np.nanmean(_gray_prices(low))


def _gray_prices(model: ChipWarModel) -> np.ndarray:
    return np.asarray(model.datacollector.model_vars["gray_price_usd"], float)


def test_laxer_customs_let_more_chips_through_the_hubs_and_earn_more_fees() -> None:
    lax, plain = _world(0.5, months=24, rng=4), _world(1.0, months=24, rng=4)
    assert smuggled_through_hubs(lax) > smuggled_through_hubs(plain)
    assert hub_fees_usd(lax) > hub_fees_usd(plain)


def test_a_us_tier_on_a_hub_shrinks_its_data_centres() -> None:
    worlds = {}
    for tier in ("open", "restricted"):  # between the Oct 2023 rule and the diffusion rule
        model = ChipWarModel(rng=1, months=27)
        model.run(15)
        model.apply(PolicyChange("us", "destination", tier, "uae"))
        model.run()
        worlds[tier] = model
    assert hub_compute(worlds["restricted"]) < 0.95 * hub_compute(worlds["open"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_normal_us_bot_tiers_a_hub_after_sustained_leakage_later_than_the_hard_one(
    seed: int,
) -> None:
    """Which hub leaks, and for how long, depends on the brokers' draws: at some seeds (2022,
    7) no hub leaks for long enough within three years for the normal bot, which waits for
    more reviews than the hard one; these seeds show both tiering a hub."""
    first = {}
    for difficulty in ("normal", "hard"):
        s = GameSession("historical", roles=["transit"], difficulty=difficulty, rng=seed, months=36)
        while not s.finished:
            s.step()
        tiers = [
            m
            for m, c, src in s.model.command_log
            if src == "bot" and c.lever == "destination" and c.target in HUBS
        ]
        assert tiers and all(
            c.value == "restricted"
            for _, c, src in s.model.command_log
            if src == "bot" and c.lever == "destination"
        )
        first[difficulty] = min(tiers)
    assert first["hard"] < first["normal"]


def test_a_save_keeps_the_count_through_the_hubs(tmp_path: Path) -> None:
    session = GameSession("historical", roles=["transit"], rng=1, months=12)
    while not session.finished:
        session.step()
    session.save(tmp_path / "g.scgame")
    loaded = GameSession.load(tmp_path / "g.scgame")
    assert loaded.model.smuggled_via.sum() > 0
    np.testing.assert_array_equal(loaded.model.smuggled_via, session.model.smuggled_via)


def test_the_cli_offers_every_role() -> None:
    for role in ROLES:
        assert build_parser().parse_args(["play", "--role", role]).role == role


def test_the_hubs_team_moves_its_customs_in_the_game(tmp_path: Path) -> None:
    app = App((1280, 800), saves_dir=tmp_path / "saves", projections=False)
    try:
        session = GameSession("historical", roles=["transit"], difficulty="easy", rng=3)
        scene = PlayScene(app, session)
        app.replace(scene)
        pump(app, 3)
        slider = reveal(app, scene, "#lever-transit_customs-malaysia")
        with pytest.raises(AssertionError):
            find(app, "#lever-transit_customs-china")
        click(app, slider.right_button.rect.center)
        click(app, slider.right_button.rect.center)
        pump(app, 30, dt=1 / 30)
        assert session.model.policy.get("transit_customs", "malaysia") > 1.0
        assert session.model.policy.get("transit_customs", "singapore") == 1.0
        assert [d.change.lever for d in session.decisions] == ["transit_customs"]
    finally:
        app.close()
        pygame.quit()
