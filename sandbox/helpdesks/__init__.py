"""The helpdesk a person plays through the control API, whichever one the agent uses.

`/_sandbox/tickets...` (list, get, reply, close, handback, approve, deny) act on `world.helpdesk`
through a `Desk`: one per helpdesk, in `sandbox/helpdesks/<vendor>.py`, registered in `DESKS`. A
desk shows that vendor's tickets in one vendor-neutral view (what tests, evals and the demo read,
in the Gorgias ticket's outline: `id`, `external_id`, `status`, `tags` as `{"name"}`, `assignee_user`,
`messages` with `body_text`, `public`, `from_agent`, `channel` — `internal-note` for a note —, `via`,
`sender`, `external_id`), and carries out a person's action on that vendor's records, returning
the webhook that vendor would send; the control API signs it as the vendor signs its deliveries
(`Desk.headers`) and sends it.

See `agent/helpdesks.py` for the other pieces of adding a helpdesk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.helpdesks.desk import Desk, DeskError, Outgoing
from sandbox.helpdesks.front import FrontDesk
from sandbox.helpdesks.gorgias import GorgiasDesk
from sandbox.helpdesks.intercom import IntercomDesk
from sandbox.helpdesks.zendesk import ZendeskDesk
from sandbox.world import JSON, World

__all__ = [
    "DESKS",
    "Desk",
    "DeskError",
    "Outgoing",
    "desk_named",
    "desk_of",
    "snapshot_ticket_views",
    "ticket_views",
]


DESKS: dict[str, Desk] = {
    "gorgias": GorgiasDesk(),
    "zendesk": ZendeskDesk(),
    "front": FrontDesk(),
    "intercom": IntercomDesk(),
}


def desk_named(name: str) -> Desk:
    desk = DESKS.get(name)
    if desk is None:
        raise DeskError(501, f"The sandbox has no {name} helpdesk yet.")
    return desk


def desk_of(world: World) -> Desk:
    """The desk of the helpdesk the world's agent uses."""
    return desk_named(world.helpdesk)


def ticket_views(world: World) -> list[JSON]:
    """The configured helpdesk's tickets in the vendor-neutral view."""
    desk = desk_of(world)
    return desk.views(getattr(world, desk.name).model_dump(mode="json"))


def snapshot_ticket_views(snapshot: Mapping[str, Any]) -> list[JSON]:
    """The same from a `World.snapshot()` (the evals compare two of them)."""
    desk = desk_named(str(snapshot.get("helpdesk") or "gorgias"))
    return desk.views(snapshot.get(desk.name) or {})
