"""The incidents of chat rooms as this process last read them, so that the busiest changes skip a read.

A room belongs to one incident for good, but the incident's commander and privacy can change, on any
replica: a decision of the access rule made on a remembered copy is only acted on once the write
transaction has locked the incident's row and found those fields unchanged
(`IncidentRepo.lock_if_access_unchanged`); otherwise the caller forgets the copy and reads afresh.
"""

from __future__ import annotations

import threading

from bot.core.models import Incident

_MAX_ROOMS = 10_000


class KnownRooms:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._incidents: dict[str, Incident] = {}

    def get(self, room_id: str | None) -> Incident | None:
        return self._incidents.get(room_id) if room_id else None

    def remember(self, incident: Incident) -> None:
        if incident.room_id is None or incident.id is None:
            return
        with self._lock:
            if len(self._incidents) >= _MAX_ROOMS:
                self._incidents.clear()
            self._incidents[incident.room_id] = incident

    def forget(self, room_id: str | None) -> None:
        if not room_id:
            return
        with self._lock:
            self._incidents.pop(room_id, None)
