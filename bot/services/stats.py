"""The incident numbers: the bot's database and the docs repo (RCAs, the runbook's Incident History,
fleet-status entries), gathered in one read of each and computed by `bot.core.stats`.

RCAs are listed with their blob ids and only the blobs not seen before are read (one `git cat-file
--batch` for all of them) and parsed, so in `serve` an unchanged repo costs one listing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.models import known_severities
from bot.core.ports import Publisher, PublishError
from bot.core.reminders import zone_or_utc
from bot.core.stats import IncidentFacts, compute_stats
from bot.core.stats_docs import (
    FactsCache,
    FleetEntry,
    HistoryRow,
    RcaFacts,
    fleet_entries,
    history_rows,
    rca_facts,
)
from bot.core.stats_merge import (
    STATUS_UPDATE_KIND,
    BotIncident,
    DocsFacts,
    first_status_update,
    merge_incidents,
)
from bot.core.stats_report import StatsReport
from bot.services.context import ServiceContext
from bot.services.publishing import DocsLayout

log = logging.getLogger(__name__)

# Parsed RCAs kept by (path, blob id); past this, only the current files' are kept.
FACTS_KEPT = 20_000


@dataclass(frozen=True)
class StatsWindow:
    """Local days (TIMEZONE), both included; None: open-ended."""

    since: date | None = None
    until: date | None = None


class IncidentStats:
    """Computes the numbers on demand; keeps the parsed RCAs between calls."""

    def __init__(
        self,
        ctx: ServiceContext,
        publisher: Publisher | None,
        layout: DocsLayout,
        *,
        owner_map: Mapping[str, str] | None = None,
        cache: FactsCache | None = None,
    ) -> None:
        self._ctx = ctx
        self._publisher = publisher
        self._layout = layout
        self._owner_map = dict(owner_map or {})
        self._facts: dict[tuple[str, str], RcaFacts] = {}
        self._cache = cache
        self._cache_read = False
        self._lock = threading.Lock()

    def report(self, window: StatsWindow | None = None, *, pulled: bool = False) -> StatsReport:
        """The numbers for the incidents declared in `window` (default: all), as of now."""
        chosen = window or StatsWindow()
        return compute_stats(
            self.incidents(pulled=pulled),
            now=self._ctx.clock.now(),
            tz=self._layout.tz,
            since=chosen.since,
            until=chosen.until,
            levels=known_severities(),
        )

    def last_days(self, days: int, *, pulled: bool = True) -> StatsReport:
        """The numbers of the last `days` local days, today included (the Home tab's 30)."""
        today = self._ctx.clock.now().astimezone(zone_or_utc(self._layout.tz)).date()
        return self.report(StatsWindow(since=today - timedelta(days=days - 1), until=today), pulled=pulled)

    def incidents(self, *, pulled: bool = False) -> list[IncidentFacts]:
        """Every incident once, from the database and the docs repo (pulled first unless `pulled`)."""
        docs = self._docs(pulled=pulled)
        with self._ctx.reader() as uow:
            stored = uow.incidents.list_active() + uow.incidents.list_resolved()
            records = [
                BotIncident(
                    incident=incident,
                    items=tuple(uow.actions.for_incident(incident.id)),
                    # Only the status updates of each timeline are read (a timeline can be long).
                    first_update=first_status_update(uow.timeline.of_kinds(incident.id, {STATUS_UPDATE_KIND}))
                    if STATUS_UPDATE_KIND is not None
                    else None,
                )
                for incident in stored
                if incident.id is not None
            ]
            being_written = uow.jobs.rows_being_written()
        return merge_incidents(
            bot=records, docs=docs, tz=self._layout.tz, owner_map=self._owner_map, rows_being_written=being_written
        )

    def _docs(self, *, pulled: bool) -> DocsFacts:
        publisher = self._publisher
        if publisher is None:
            return DocsFacts()
        if not pulled:
            try:
                publisher.pull()
            except PublishError as error:
                log.warning("computing the numbers without pulling the docs repo: %s", error)
        rcas = self._rca_facts(publisher)
        history: list[HistoryRow] = []
        fleet: list[FleetEntry] = []
        if self._layout.runbook_path and (runbook := publisher.read(self._layout.runbook_path)) is not None:
            history = history_rows(runbook, runbook_path=self._layout.runbook_path)
        if (status := publisher.read(self._layout.fleet_status_path)) is not None:
            fleet = fleet_entries(status, tz=self._layout.tz)
        return DocsFacts(rcas=rcas, history=history, fleet=fleet)

    def _rca_facts(self, publisher: Publisher) -> dict[str, RcaFacts]:
        # Job threads (Home tabs, the digest) share the parsed RCAs: one of them updates them at a time.
        with self._lock:
            return self._current_facts(publisher)

    def _current_facts(self, publisher: Publisher) -> dict[str, RcaFacts]:
        if self._cache is not None and not self._cache_read:
            self._facts.update(self._cache.load())  # what an earlier run (or process) parsed
            self._cache_read = True
        blobs = publisher.list_blobs(self._layout.incidents_dir, suffix="-rca.md")
        unseen = {blob for path, blob in blobs.items() if (path, blob) not in self._facts}
        texts = publisher.read_blobs(sorted(unseen)) if unseen else {}
        for path, blob in blobs.items():
            if (path, blob) not in self._facts and blob in texts:
                self._facts[(path, blob)] = rca_facts(path=path, text=texts[blob], tz=self._layout.tz)
        current = set(blobs.items())
        stale = any(key not in current for key in self._facts)
        if len(self._facts) > FACTS_KEPT or (self._cache is not None and stale):
            self._facts = {key: facts for key, facts in self._facts.items() if key in current}
        if self._cache is not None and (texts or stale):
            self._cache.save(self._facts)
        return {path: self._facts[(path, blob)] for path, blob in blobs.items() if (path, blob) in self._facts}


def parse_day(text: str, *, option: str) -> date:
    """A `YYYY-MM-DD` given on the command line; ValueError naming the option otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} must be a date such as 2026-01-31, not {text!r}") from None
