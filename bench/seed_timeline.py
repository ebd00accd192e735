"""Give the incident of a channel a long timeline, through the bot's own storage API.

Run by the python of the checkout under test (so its own `bot` package and schema are used), with the
bot stopped: `python -c "$(cat bench/seed_timeline.py)" DATABASE_URL ROOM_ID COUNT`. Most entries are
notes; every tenth is a pinned message with its permalink, as a busy incident's timeline has.
"""

from __future__ import annotations

import sys
from datetime import timedelta


def seed(database_url: str, room_id: str, count: int) -> int:
    from bot.clock import SystemClock
    from bot.core.models import TimelineEntry, TimelineKind
    from bot.storage import SqlUnitOfWork, create_engine_for

    engine = create_engine_for(database_url)
    try:
        try:
            unit = SqlUnitOfWork(engine, clock=SystemClock())
        except TypeError:  # a checkout from before the storage took the clock
            unit = SqlUnitOfWork(engine)  # type: ignore[call-arg]
        with unit as uow:
            incident = uow.incidents.by_room(room_id)
            if incident is None or incident.id is None:
                raise SystemExit(f"no incident in {room_id}")
            for number in range(count):
                at = incident.declared_at + timedelta(milliseconds=10 * (number + 1))
                author = ("UALICE", "UBOB")[number % 2]
                if number % 10 == 9:
                    ts = f"{int(at.timestamp())}.{number:06d}"
                    entry = TimelineEntry(
                        incident_id=incident.id,
                        kind=TimelineKind.MESSAGE,
                        occurred_at=at,
                        author_id=author,
                        text=f"Shard {number} error rate is 4% and climbing",
                        source_room_id=room_id,
                        source_message_id=ts,
                        permalink=f"https://fake-workspace.slack.com/archives/{room_id}/p{ts.replace('.', '')}",
                    )
                else:
                    entry = TimelineEntry(
                        incident_id=incident.id,
                        kind=TimelineKind.NOTE,
                        occurred_at=at,
                        author_id=author,
                        text=f"Note {number}: checked shard {number % 64}, restarted its worker",
                    )
                uow.timeline.add(entry)
            uow.commit()
            return uow.timeline.count(incident.id)
    finally:
        engine.dispose()


if __name__ == "__main__":
    print(seed(sys.argv[1], sys.argv[2], int(sys.argv[3])))
