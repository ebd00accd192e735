"""The Home tab: built from the docs repo's RCAs (as of the last pull) and the bot's database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.home import NUMBERS_DAYS, OPEN_INCIDENTS_SHOWN, RESOLVED_SHOWN, HomeView, page_of
from bot.core.jobs import Next, PublishHome, RefreshHomes
from bot.core.models import Incident
from bot.core.ports import Chat, UnitOfWork
from bot.services.context import ServiceContext
from bot.services.publishing import DocsLayout
from bot.services.reminders import Reminders

if TYPE_CHECKING:
    from bot.core.stats_report import StatsReport
    from bot.services.stats import IncidentStats


def home_opened(ctx: ServiceContext, *, user_id: str, event_id: str) -> None:
    """Someone opened the bot's Home tab: it is published after the ack (once per event), at its first page."""
    with ctx.uow() as uow:
        uow.home_tabs.looked_at(user_id, 0)
        uow.jobs.enqueue(PublishHome(user_id=user_id, page=0), key=f"home:{event_id}"[:200])
        uow.commit()


def show_page(ctx: ServiceContext, *, user_id: str, page: int) -> None:
    """Someone turned their Home tab to `page`: it is published there, and refreshes keep it there."""
    page = max(0, min(page, 10_000))
    with ctx.uow() as uow:
        uow.home_tabs.looked_at(user_id, page)
        uow.jobs.enqueue(PublishHome(user_id=user_id, page=page))
        uow.commit()


def publish_again(ctx: ServiceContext, *, user_id: str) -> None:
    """Publish `user_id`'s Home tab again at the page they are on (a change they made from it)."""
    with ctx.uow() as uow:
        uow.jobs.enqueue(PublishHome(user_id=user_id))
        uow.commit()


# A change to the incidents refreshes the Home tabs opened this recently, at most this many of them.
RECENT_VIEWERS_HOURS = 24
RECENT_VIEWERS_MAX = 500
# Changes close together share one refresh, which runs this long after the first of them.
REFRESH_DELAY_SECONDS = 5
# The last days' numbers are computed again after this long (many tabs published at once share them).
NUMBERS_FRESH = timedelta(seconds=30)


def publish_soon(uow: UnitOfWork, user_id: str, now: datetime) -> None:
    """Publish `user_id`'s Home tab again shortly: changes close together (eighty action items added in
    a burst) share one publish instead of one each."""
    window = int(now.timestamp() // REFRESH_DELAY_SECONDS)
    run_at = now + timedelta(seconds=REFRESH_DELAY_SECONDS)
    uow.jobs.enqueue(PublishHome(user_id=user_id), run_at=run_at, key=f"home-soon:{user_id}:{window}")


def refresh_soon(now: datetime) -> Next:
    """The job that publishes again the Home tabs people are looking at (one per few seconds)."""
    window = int(now.timestamp() // REFRESH_DELAY_SECONDS)
    return Next(RefreshHomes(), key=f"refresh-homes:{window}", delay_seconds=REFRESH_DELAY_SECONDS)


class HomeTab:
    def __init__(
        self,
        ctx: ServiceContext,
        chat: Chat,
        reminders: Reminders,
        layout: DocsLayout,
        *,
        stats: Callable[[], IncidentStats] | None = None,
    ) -> None:
        self._ctx = ctx
        self._chat = chat
        self._reminders = reminders
        self._layout = layout
        self._stats = stats
        self._numbers_at: tuple[datetime, StatsReport] | None = None

    def publish(self, job: PublishHome) -> None:
        """Publish the tab at the page its reader is on. Publishes for one person may run side by side
        (a refresh and their click on "Older"): one built for a page they have since left is dropped, so
        that the last tab published is the page they asked for last."""
        page = self._page_of(job.user_id)
        if job.page is not None and job.page != page:
            return  # they turned to another page since: that page's own publish shows it
        view = self.view(job.user_id, page=page)
        if self._page_of(job.user_id) != page:
            return
        self._chat.publish_home(view)

    def _page_of(self, user_id: str) -> int:
        with self._ctx.reader() as uow:
            return uow.home_tabs.page_of(user_id)

    def refresh(self, *, job_id: int) -> list[Next]:
        since = self._ctx.clock.now() - timedelta(hours=RECENT_VIEWERS_HOURS)
        with self._ctx.reader() as uow:
            viewers = uow.home_tabs.recent(since, limit=RECENT_VIEWERS_MAX)
        return [Next(PublishHome(user_id=user), key=f"home-refresh:{job_id}:{user}") for user in viewers]

    def view(self, user_id: str, *, page: int = 0) -> HomeView:
        now = self._ctx.clock.now()
        # As of the last pull (the daily check and every publish pull): opening a tab fetches nothing.
        found = self._reminders.scan(pulled=True)
        mine = sorted((i for i in found.items if i.owner_id == user_id), key=lambda i: (i.since, i.number))
        shown, page, pages = page_of(mine, page)
        with self._ctx.reader() as uow:
            active = uow.incidents.list_active()
            resolved = uow.incidents.list_resolved()
        visible = [i for i in active if self._may_see(i, user_id)]
        visible.sort(key=lambda i: (i.severity.value, i.declared_at))
        theirs = [i for i in resolved if user_id in (i.commander_id, i.declared_by) and self._may_see(i, user_id)]
        theirs.sort(key=lambda i: i.resolved_at or i.declared_at, reverse=True)
        links = self._reminders.rca_links(shown)
        for incident in theirs[:RESOLVED_SHOWN]:
            if incident.rca_path and (link := self._layout.web_link(incident.rca_path)):
                links[incident.rca_path] = link
        return HomeView(
            user_id=user_id,
            now=now,
            items=tuple(shown),
            total_items=len(mine),
            page=page,
            pages=pages,
            open_incidents=tuple(visible[:OPEN_INCIDENTS_SHOWN]),
            resolved=tuple(theirs[:RESOLVED_SHOWN]),
            rca_links=links,
            numbers=self._numbers(now),
        )

    def _numbers(self, now: datetime) -> StatsReport | None:
        """The last days' numbers (counts only: private incidents are counted, never titled), as of the last
        pull; a burst of publishes (a refresh of every recent viewer) computes them once."""
        if self._stats is None:
            return None
        if self._numbers_at is not None and timedelta(0) <= now - self._numbers_at[0] < NUMBERS_FRESH:
            return self._numbers_at[1]
        numbers = self._stats().last_days(NUMBERS_DAYS, pulled=True)
        self._numbers_at = (now, numbers)
        return numbers

    def _may_see(self, incident: Incident, user_id: str) -> bool:
        if not incident.private:
            return True
        if user_id in self._ctx.policy.admins or user_id in (incident.commander_id, incident.declared_by):
            return True
        return incident.room_id is not None and self._ctx.members.is_member(incident.room_id, user_id)
