"""Which pages an incident's change sends: a trigger when it reaches a level that pages, a resolve when it leaves."""

from __future__ import annotations

from typing import Literal

from bot.core import jobs
from bot.core.models import Incident, Reply, Severity
from bot.services.context import Policy


def page_jobs(
    policy: Policy, incident: Incident, *, before: Severity | None, resolved: bool, asked_by: Reply
) -> list[jobs.SendPage]:
    """One job per paging service when the change opens or closes a page (`before` None: just declared)."""
    assert incident.id is not None
    was_paging = before is not None and policy.pages(before)
    paging_now = policy.pages(incident.severity) and not resolved
    action: Literal["trigger", "resolve"]
    if paging_now and not was_paging:
        action = "trigger"
    elif was_paging and not paging_now:
        action = "resolve"
    else:
        return []
    return [
        jobs.SendPage(incident_id=incident.id, action=action, service=service, asked_by=asked_by)
        for service in policy.pagers
    ]
