"""Builders of valid core models for the storage tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from bot.core.models import ActionItem, Incident, Severity, TimelineEntry, TimelineKind

# A fixed instant with a non-UTC offset, so that tests notice if an offset is dropped, not converted.
T0 = datetime(2024, 3, 9, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))


def incident(**overrides: Any) -> Incident:
    """An active SEV-2 incident with every field filled in unless overridden."""
    fields: dict[str, Any] = {
        "title": "Checkout API returns 500s",
        "severity": Severity.SEV2,
        "commander_id": "U_COMMANDER",
        "declared_by": "U_DECLARER",
        "declared_at": T0,
        "summary": "Customers cannot pay",
        "private": False,
        "room_id": None,
        "room_name": None,
        "summary_message_id": None,
        "origin_room_id": "C_ORIGIN",
    }
    fields.update(overrides)
    return Incident(**fields)


def entry(incident_id: int, **overrides: Any) -> TimelineEntry:
    """A note on the incident's timeline."""
    fields: dict[str, Any] = {
        "incident_id": incident_id,
        "kind": TimelineKind.NOTE,
        "occurred_at": T0,
        "author_id": "U_AUTHOR",
        "text": "Rolled back the deploy",
    }
    fields.update(overrides)
    return TimelineEntry(**fields)


def action(incident_id: int, **overrides: Any) -> ActionItem:
    """An open action item for the incident (its number is assigned on add)."""
    fields: dict[str, Any] = {
        "incident_id": incident_id,
        "number": 0,
        "action": "Add an alert on checkout error rate",
        "owner_id": "U_OWNER",
        "owner_label": "Payments team",
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return ActionItem(**fields)
