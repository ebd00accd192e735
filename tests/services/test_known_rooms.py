"""Notes and pins decided on this process's copy of a room's incident still follow the access rule when
another replica changed the incident meanwhile."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.errors import NotAllowed
from bot.core.models import Reply, Severity, TimelineKind
from bot.core.ports import UnitOfWork
from bot.services import incidents, timeline
from bot.services.context import ServiceContext
from tests.storage.concurrency import run_together
from tests.support.clock import RunningClock

ROOM = "CKNOWNROOM"


def _incident_in_room(ctx: ServiceContext) -> int:
    incident = incidents.declare_incident(
        ctx, title="Checkout down", severity=Severity.SEV2, declared_by="UALICE", reply=Reply(user_id="UALICE")
    )
    assert incident.id is not None
    with ctx.uow() as uow:
        uow.incidents.set_room(incident.id, ROOM, "inc-checkout-down")
        uow.commit()
    return incident.id


def test_a_former_commander_is_refused_once_another_replica_handed_the_incident_over(
    uow_factory: Callable[[], UnitOfWork], clock: RunningClock
) -> None:
    # Two replicas on one database; nobody is a member of the room, so only the commander may add.
    here = ServiceContext(uow=uow_factory, clock=clock)
    elsewhere = ServiceContext(uow=uow_factory, clock=clock)
    incident_id = _incident_in_room(here)
    timeline.add_note(here, room_id=ROOM, text="Rolled back", by="UALICE")
    timeline.pin_message(here, event_id="Ev1", room_id=ROOM, message_id="1.000001", user_id="UALICE")

    incidents.change_commander(elsewhere, room_id=ROOM, commander_id="UBOB", by="UALICE")

    timeline.pin_message(here, event_id="Ev2", room_id=ROOM, message_id="1.000002", user_id="UALICE")
    with pytest.raises(NotAllowed, match="commander <@UBOB>"):
        timeline.add_note(here, room_id=ROOM, text="Still me?", by="UALICE")
    timeline.add_note(here, room_id=ROOM, text="Bob here", by="UBOB")
    with uow_factory() as uow:
        notes = [entry.text for entry in uow.timeline.for_incident(incident_id) if entry.kind is TimelineKind.NOTE]
        assert notes == ["Rolled back", "Commander changed from <@UALICE> to <@UBOB>", "Bob here"]
        assert uow.pins.count(incident_id, ROOM, "1.000001") == 1
        assert uow.pins.count(incident_id, ROOM, "1.000002") == 0


def test_many_pins_of_one_incident_at_once_are_all_recorded(
    uow_factory: Callable[[], UnitOfWork], clock: RunningClock
) -> None:
    # A busy incident: people pin messages in the same moments. Each pin decides on the process's copy
    # and locks the incident's row last; none may deadlock with another (PostgreSQL) or be lost.
    ctx = ServiceContext(uow=uow_factory, clock=clock)
    incident_id = _incident_in_room(ctx)
    timeline.add_note(ctx, room_id=ROOM, text="Copy of the room remembered", by="UALICE")
    threads, each = 8, 6

    def pin(index: int) -> None:
        for n in range(each):
            message = f"2.{index:03d}{n:03d}"
            timeline.pin_message(ctx, event_id=f"Ev-{message}", room_id=ROOM, message_id=message, user_id="UALICE")

    run_together(threads, pin)
    with uow_factory() as uow:
        pinned = [
            uow.pins.count(incident_id, ROOM, f"2.{index:03d}{n:03d}") for index in range(threads) for n in range(each)
        ]
    assert pinned == [1] * (threads * each)
