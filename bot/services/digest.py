"""The weekly digest: the week's incident numbers and the charts, posted to DIGEST_CHANNEL once a week.

`serve` checks with the daily jobs; the week is claimed in the database before its job is queued, so
one replica posts it, a restart does not post it again, and a digest Slack refused is given back for a
later check. The numbers are posted first (a message a retried job finds again), then the charts are
uploaded (`files.uploadV2`, which a retried job also looks for first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.digest import (
    ChartFile,
    ChartRenderer,
    Digest,
    DigestChat,
    DigestWeek,
    WeeklyTime,
    current_week,
    digest_due,
    parse_weekly_time,
)
from bot.core.jobs import DailyClaim, Next, PostDigest, UploadDigestCharts
from bot.core.models import known_severities
from bot.core.reminders import zone_or_utc
from bot.services.context import ServiceContext

if TYPE_CHECKING:
    from bot.services.stats import IncidentStats

log = logging.getLogger(__name__)

DIGEST = "digest"


@dataclass(frozen=True)
class DigestPolicy:
    channel: str | None = None
    when: str = "Monday 09:00"
    tz: str = "UTC"

    @property
    def weekly(self) -> WeeklyTime:
        return parse_weekly_time(self.when)


class WeeklyDigest:
    """Builds, claims and posts the weekly digest."""

    def __init__(
        self,
        ctx: ServiceContext,
        chat: DigestChat,
        stats: Callable[[], IncidentStats],
        policy: DigestPolicy,
        charts: ChartRenderer,
    ) -> None:
        self._ctx = ctx
        self._chat = chat
        self._stats = stats
        self._policy = policy
        self._charts = charts

    @property
    def channel(self) -> str | None:
        return self._policy.channel

    def build(self, week: DigestWeek, *, pulled: bool = False) -> Digest:
        """The week's numbers and the charts' weeks, from one read of the database and the docs repo."""
        # Loaded here, not at start: the daily check only asks whether the digest is due.
        from bot.core.stats import compute_stats

        facts = self._stats().incidents(pulled=pulled)
        now, tz, levels = self._ctx.clock.now(), self._policy.tz, known_severities()
        return Digest(
            week=week,
            numbers=compute_stats(facts, now=now, tz=tz, since=week.since, until=week.until, levels=levels),
            trend=compute_stats(facts, now=now, tz=tz, since=week.charts_since, until=week.until, levels=levels),
        )

    def this_week(self, now: datetime) -> DigestWeek:
        """The digest `incident-bot digest` posts at `now`: the one due on the last DIGEST_TIME weekday."""
        today = now.astimezone(zone_or_utc(self._policy.tz)).date()
        return current_week(today, weekday=self._policy.weekly.weekday)

    def post_weekly(self, now: datetime) -> DigestWeek | None:
        """The daily check's part: queue the digest when its day and time have come and nobody posted it."""
        week = digest_due(now, tz=self._policy.tz, when=self._policy.weekly)
        return self.post(week) if week is not None else None

    def post(self, week: DigestWeek) -> DigestWeek | None:
        """Claim `week`'s digest and queue it; None when there is no channel or it was posted already."""
        channel = self._policy.channel
        if not channel:
            return None
        with self._ctx.uow() as uow:
            if not uow.claims.claim(DIGEST, channel, week.day):
                return None
            uow.jobs.enqueue(
                PostDigest(channel=channel, day=week.day, claim=DailyClaim(kind=DIGEST, subject=channel, day=week.day))
            )
            uow.commit()
        return week

    def post_job(self, job: PostDigest) -> list[Next]:
        """The job behind the digest: post the numbers, then (a job of its own) upload the charts."""
        digest = self.build(DigestWeek(day=job.day))
        self._chat.post_digest(job.channel, digest)
        upload = UploadDigestCharts(channel=job.channel, day=job.day)
        return [Next(upload, key=f"digest-charts:{job.channel}:{job.day.isoformat()}")]

    def charts_job(self, job: UploadDigestCharts) -> None:
        digest = self.build(DigestWeek(day=job.day), pulled=True)
        charts = self.charts(digest)
        self._chat.upload_charts(
            job.channel, charts, comment=f"Charts of the {len(digest.trend.by_week)} weeks to {digest.week.until}"
        )

    def charts(self, digest: Digest) -> list[ChartFile]:
        """The digest's charts (the weeks up to it), named for its week."""
        return [
            ChartFile(name=digest.chart_name(chart.name), title=chart.title, png=chart.png)
            for chart in self._charts(digest.trend)
        ]
