"""Names as players read them: the news, the debrief and the report name actors, targets and
lever changes alike, in the words of the data files, never by their ids."""

from __future__ import annotations

from game.config.commands import PolicyChange
from game.config.levers import PolicySpec
from game.config.texts import text as tr
from game.config.world import WorldData


class Names:
    def __init__(self, world: WorldData, spec: PolicySpec) -> None:
        self.spec = spec
        self.actors = world.actor_names()
        self.countries = {c.id: c.name for c in world.countries}

    def actor(self, actor: str) -> str:
        """A government's, vendor's or lab's name (the id if unknown)."""
        return self.actors.get(actor, actor)

    def target(self, target: str) -> str:
        """A lever target's name: a country, else an actor (lab or vendor)."""
        return self.countries.get(target) or self.actor(target)

    def change(self, change: PolicyChange) -> str:
        """'Customs on AI chips for Malaysia set to 2.0': a lever change in the names players
        see on screen, not the ids of the lever spec."""
        lever = self.spec.levers.get(change.lever)
        what = lever.name if lever is not None else change.lever
        value = change.value
        if isinstance(value, bool):
            value = tr("news_change_on") if value else tr("news_change_off")
        target = (
            tr("news_change_target", target=self.target(str(change.target)))
            if change.target
            else ""
        )
        return tr("news_change", what=what, target=target, value=value)

    def news(self, change: PolicyChange) -> str:
        """A lever change as the news reads it: who, then what."""
        return tr("news_policy", actor=self.actor(change.actor), change=self.change(change))
