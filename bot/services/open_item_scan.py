"""Finding the open action items: the docs repo's RCAs (the truth) and the bot's database.

No chat platform here: `incident-bot scan` wires this alone, so an agent's run spends its time reading,
not importing Slack's SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.core.open_items import OpenItem, OpenItems, Person, collect_open_items
from bot.core.ports import Publisher, PublishError
from bot.core.rca_parse import ParsedRca, parse_rca
from bot.services.context import ServiceContext
from bot.services.publishing import DocsLayout

log = logging.getLogger(__name__)

# Parsed RCAs kept between scans, by blob id; past this, only the current files' are kept.
PARSED_KEPT = 20_000


def item_payload(item: OpenItem) -> dict[str, Any]:
    """An open item as JSON values (its fields, shallowly: `asdict`'s deep copies cost seconds on a big repo)."""
    data: dict[str, Any] = dict(vars(item))  # a dataclass's fields, in their order
    data["since"] = item.since.isoformat()
    data["status"] = item.status.value
    data["severity"] = item.severity.value if item.severity else None
    return data


class FindsOpenItems(Protocol):
    """A scan for open items (OpenItemScan, or bot/scan_process.py's in a process of its own)."""

    def scan(self, *, people: Sequence[Person], pulled: bool = False) -> OpenItems: ...


class ParsedRcaStore(Protocol):
    """Parsed RCAs kept between processes, by blob id (see bot/rca_cache.py)."""

    def load(self) -> dict[str, ParsedRca]: ...
    def save(self, parsed: Mapping[str, ParsedRca]) -> None: ...


class OpenItemScan:
    """The open action items of the docs repo's RCAs and of the database; needs no chat platform."""

    def __init__(
        self,
        ctx: ServiceContext,
        publisher: Publisher | None,
        layout: DocsLayout,
        *,
        owner_map: Mapping[str, str] | None = None,
        parsed_store: ParsedRcaStore | None = None,
    ) -> None:
        self._ctx = ctx
        self._publisher = publisher
        self._layout = layout
        self._owner_map = dict(owner_map or {})
        self._store = parsed_store
        self._parsed: dict[str, ParsedRca] | None = None

    def scan(self, *, people: Sequence[Person], pulled: bool = False) -> OpenItems:
        """Every open item, owners matched among `people`; the RCA files (after a pull) are the truth,
        the database follows them."""
        if not pulled:
            self.pull()
        found = self.find(people=people)
        self.follow(found)
        return found

    @property
    def reads_docs(self) -> bool:
        """Whether there is a docs repo to read (without one, a scan is a few database reads)."""
        return self._publisher is not None

    def pull(self) -> None:
        """Bring the docs repo up to date; a failure is logged and the scan reads what it has."""
        if self._publisher is None:
            return
        try:
            self._publisher.pull()
        except PublishError as error:
            log.warning("scanning the docs repo without pulling: %s", error)

    def find(self, *, people: Sequence[Person]) -> OpenItems:
        """The open items of the docs repo as it is now, and of the database; reads only."""
        files: dict[str, ParsedRca] = {}
        if self._publisher is not None:
            files = self._parsed_rcas(self._publisher)
        with self._ctx.reader() as uow:
            incidents = uow.incidents.list_active() + uow.incidents.list_resolved()
            items = {incident.id: uow.actions.for_incident(incident.id) for incident in incidents if incident.id}
            being_written = uow.jobs.rows_being_written()
        return collect_open_items(
            rca_files=files,
            incidents=incidents,
            db_items=items,
            people=people,
            owner_map=self._owner_map,
            rows_being_written=being_written,
        )

    def _parsed_rcas(self, publisher: Publisher) -> dict[str, ParsedRca]:
        """Every RCA in the docs repo, parsed; a file whose content is unchanged since the last scan (of
        this process, or of any with the same `parsed_store`) is not read or parsed again (its blob id says so)."""
        if self._parsed is None:
            self._parsed = self._store.load() if self._store is not None else {}
        blobs = publisher.list_blobs(self._layout.incidents_dir, suffix="-rca.md")
        unknown = sorted({blob for blob in blobs.values() if blob not in self._parsed})
        for blob, text in publisher.read_blobs(unknown).items():
            self._parsed[blob] = parse_rca(text)
        if len(self._parsed) > PARSED_KEPT:
            keep = set(blobs.values())
            self._parsed = {blob: parsed for blob, parsed in self._parsed.items() if blob in keep}
        if unknown and self._store is not None:
            # Only the current files' entries: a file that changed leaves no stale entry behind.
            self._store.save({blob: self._parsed[blob] for blob in set(blobs.values()) if blob in self._parsed})
        return {path: self._parsed[blob] for path, blob in blobs.items() if blob in self._parsed}

    def follow(self, found: OpenItems) -> None:
        """Someone changed a status by editing the RCA in git: the bot's copy follows."""
        if not found.status_changes:
            return
        now = self._ctx.clock.now()
        with self._ctx.uow() as uow:
            for incident_id, number, status in found.status_changes:
                item = uow.actions.get(incident_id, number)
                if item is not None:
                    uow.actions.save(item.model_copy(update={"status": status, "updated_at": now}))
            uow.commit()
