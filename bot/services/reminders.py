"""Keeping action items moving: DMs on resolve, daily reminders, the daily briefing, `scan`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.core.errors import IncidentNotFound, InvalidInput
from bot.core.jobs import DailyClaim, Next, PostBriefing, SendActionItems
from bot.core.models import Incident
from bot.core.open_items import (
    OpenItem,
    OpenItems,
    Person,
    by_owner,
    match_owner,
    open_items_of,
)
from bot.core.ports import Chat, Publisher, PublishError
from bot.core.rca_parse import parse_rca
from bot.core.reminders import BriefingGroup, briefing_groups, local_day_due, missing_rcas
from bot.services.context import ServiceContext
from bot.services.open_item_scan import FindsOpenItems, OpenItemScan, ParsedRcaStore
from bot.services.publishing import DocsLayout

log = logging.getLogger(__name__)

REMINDER = "reminder"
CLAIMS_PER_TRANSACTION = 50
BRIEFING = "briefing"


@dataclass(frozen=True)
class ReminderPolicy:
    reminder_time: time = time(9, 0)
    briefing_time: time = time(9, 0)
    briefing_channel: str | None = None
    tz: str = "UTC"
    owner_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Briefing:
    groups: list[BriefingGroup]
    missing_rcas: list[Incident]
    guide_problems: list[str] = field(default_factory=list)


class Reminders:
    """Finds open action items in the docs repo and the database, and nudges their owners."""

    def __init__(
        self,
        ctx: ServiceContext,
        chat: Chat,
        publisher: Publisher | None,
        layout: DocsLayout,
        policy: ReminderPolicy,
        *,
        guide_problems: Callable[[], Sequence[object]] = tuple,
        parsed_store: ParsedRcaStore | None = None,
        due_scan: Callable[[OpenItemScan], FindsOpenItems] | None = None,
    ) -> None:
        """`due_scan`: the scan of the daily runs (reminders, the briefing), made from the plain one;
        `serve` runs it in a process of its own (bot/scan_process.py)."""
        self._ctx = ctx
        self._guide_problems = guide_problems
        self._chat = chat
        self._publisher = publisher
        self._layout = layout
        self._policy = policy
        self._scan = OpenItemScan(ctx, publisher, layout, owner_map=policy.owner_map, parsed_store=parsed_store)
        self._due_scan: FindsOpenItems = due_scan(self._scan) if due_scan is not None else self._scan
        # (time zone, local date) whose reminders this process has queued: not scanned for again.
        self._reminded_zones: set[tuple[str, date]] = set()
        self._reminded_at: tuple[str | None, str] | None = None

    def rca_links(self, items: list[OpenItem]) -> dict[str, str]:
        return {item.source: link for item in items if item.source and (link := self._layout.web_link(item.source))}

    def scan(self, *, people: list[Person] | None = None, pulled: bool = False) -> OpenItems:
        """Every open item; the RCA files (after a pull) are the truth, the database follows them."""
        return self._scan.scan(people=people if people is not None else self._chat.people(), pulled=pulled)

    def hand_written_owner(self, path: str, number: int) -> str | None:
        """The chat user who owns row `number` of the RCA at `path`, as the file says (None: nobody matched)."""
        folder, _, name = path.rpartition("/")
        if folder != self._layout.incidents_dir or not name.endswith("-rca.md") or name.startswith("."):
            raise InvalidInput("That button does not point at an RCA in the docs repo.")
        text = self._publisher.read(path) if self._publisher is not None else None
        row = next((r for r in parse_rca(text).action_items if r.number == number), None) if text else None
        if row is None:
            raise IncidentNotFound(f"`{path}` has no action item #{number} any more.")
        return match_owner(row.owner, row.owner_id, self._chat.people(), self._policy.owner_map)

    def remind(
        self, now: datetime, *, at: time | None = None, dry_run: bool = False
    ) -> list[tuple[str, list[OpenItem]]]:
        """Queue one DM per owner with open items who has not been reminded on their local day yet.

        Nothing is scanned when no time zone's reminder time has come since the last run in this process
        and neither the docs repo nor the action items changed since, so frequent checks cost little.
        """
        people = self._chat.people()
        wall = self._policy.reminder_time if at is None else at
        days = {person.id: day for person in people if (day := local_day_due(now, tz=person.tz, at=wall))}
        zones = {(person.tz or "UTC", days[person.id]) for person in people if person.id in days}
        if not zones:
            return []
        seen = self._fingerprint()
        if not dry_run and zones <= self._reminded_zones and seen == self._reminded_at:
            return []
        due: list[tuple[str, list[OpenItem]]] = []
        owners = [
            (owner, items)
            for owner, items in by_owner(self._due_scan.scan(people=people, pulled=True).items).items()
            if owner in days
        ]
        for start in range(0, len(owners), CLAIMS_PER_TRANSACTION):
            # In batches: the first DMs go out while the later owners are still being claimed, and the
            # write lock is never held long (Slack's requests need it too).
            batch = owners[start : start + CLAIMS_PER_TRANSACTION]
            with self._ctx.uow() as uow:
                if dry_run:
                    due += [(o, items) for o, items in batch if not uow.claims.claimed(REMINDER, o, days[o])]
                    continue
                claimed = uow.claims.claim_many(REMINDER, [(owner_id, days[owner_id]) for owner_id, _ in batch])
                mine = [(owner_id, items) for owner_id, items in batch if (owner_id, days[owner_id]) in claimed]
                # The claim is given back if the DM cannot be sent, so a later check sends it.
                uow.jobs.enqueue_many(
                    [
                        SendActionItems(
                            owner_id=owner_id,
                            reason="reminder",
                            items=tuple(items),
                            claim=DailyClaim(kind=REMINDER, subject=owner_id, day=days[owner_id]),
                        )
                        for owner_id, items in mine
                    ]
                )
                uow.commit()
            due += mine
        if not dry_run:
            self._reminded_zones |= zones
            self._reminded_at = seen
        return due

    def _fingerprint(self) -> tuple[str | None, str]:
        """What the open items depend on: the docs repo's commit (after a pull) and the bot's items."""
        head = None
        if self._publisher is not None:
            try:
                self._publisher.pull()
            except PublishError as error:
                log.warning("checking the docs repo without pulling: %s", error)
            head = self._publisher.head()
        with self._ctx.reader() as uow:
            return head, uow.actions.version()

    def briefing(self, now: datetime) -> Briefing:
        """The unresolved action items by incident, and incidents still missing their RCA."""
        found = self._due_scan.scan(people=self._chat.people())
        with self._ctx.uow() as uow:
            resolved = uow.incidents.list_resolved()
        present = self._publisher.list_files(self._layout.incidents_dir, suffix="-rca.md") if self._publisher else []
        return Briefing(
            groups=briefing_groups(found.items, now),
            missing_rcas=missing_rcas(resolved, present),
            guide_problems=[str(problem) for problem in self._guide_problems()],
        )

    def post_briefing(self, now: datetime, *, at: time | None = None, dry_run: bool = False) -> Briefing | None:
        """Queue today's briefing for BRIEFING_CHANNEL once; None when not due or already posted."""
        channel = self._policy.briefing_channel
        day = local_day_due(now, tz=self._policy.tz, at=self._policy.briefing_time if at is None else at)
        if not channel or day is None:
            return None
        with self._ctx.uow() as uow:
            if uow.claims.claimed(BRIEFING, channel, day):
                return None
        briefing = self.briefing(now)
        if dry_run:
            return briefing
        with self._ctx.uow() as uow:
            if not uow.claims.claim(BRIEFING, channel, day):
                return None
            uow.jobs.enqueue(
                PostBriefing(
                    channel=channel,
                    groups=tuple(briefing.groups),
                    missing=tuple(i.id for i in briefing.missing_rcas if i.id is not None),
                    claim=DailyClaim(kind=BRIEFING, subject=channel, day=day),
                    guide_problems=tuple(briefing.guide_problems),
                )
            )
            uow.commit()
        return briefing

    def send_action_items(self, job: SendActionItems) -> None:
        """The job behind reminders and resolve DMs: one DM listing someone's open items."""
        items = list(job.items)
        self._chat.send_action_items(
            job.owner_id, items, reason=job.reason, now=self._ctx.clock.now(), rca_links=self.rca_links(items)
        )
        if items:
            self._ctx.metrics.reminder_sent(job.reason)

    def post_briefing_job(self, job: PostBriefing) -> None:
        with self._ctx.uow() as uow:
            missing = [i for i in (uow.incidents.get(n) for n in job.missing) if i is not None]
        all_items = [item for group in job.groups for item in group.items]
        self._chat.post_briefing(
            job.channel,
            list(job.groups),
            missing,
            now=self._ctx.clock.now(),
            rca_links=self.rca_links(all_items),
            guide_problems=job.guide_problems,
        )

    def dm_owners_of(self, incident_id: int, *, parent_job: int) -> list[Next]:
        """After a resolve: one DM per owner of an open item of this incident (once per owner and resolve)."""
        with self._ctx.uow() as uow:
            incident = uow.incidents.get(incident_id)
            items = uow.actions.for_incident(incident_id)
        if incident is None:
            return []
        return [
            Next(
                SendActionItems(owner_id=owner_id, reason="resolved", items=tuple(owned)),
                key=f"dm:{parent_job}:{owner_id}",
            )
            for owner_id, owned in by_owner(open_items_of(incident, items)).items()
        ]
