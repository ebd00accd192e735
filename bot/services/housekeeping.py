"""Keeping the database small: old event ids and finished jobs are deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.ports import JobStore
from bot.services.context import ServiceContext

# Slack retries an event for about an hour; two days leaves room for long outages.
EVENT_IDS_KEPT = timedelta(days=2)
# Finished jobs are the bot's audit trail of what it sent and committed.
FINISHED_JOBS_KEPT = timedelta(days=30)


def tidy(ctx: ServiceContext, jobs: JobStore, now: datetime) -> tuple[int, int]:
    """Delete event ids and finished jobs past their keeping time; returns how many of each."""
    with ctx.uow() as uow:
        events = uow.events.forget_before(now - EVENT_IDS_KEPT)
        uow.commit()
    return events, jobs.purge_finished(now - FINISHED_JOBS_KEPT)
