"""Past incidents like a new one: the docs repo's RCAs ranked against its title and summary, posted in its channel.

It is a help, never a step of the incident: a docs repo that cannot be read is logged and nothing is
posted. The index is kept for the life of the process and rebuilt only for RCAs whose content changed.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from bot.core.models import Incident
from bot.core.past_incidents import PastIncident
from bot.core.ports import Chat, Publisher, PublishError
from bot.search.reasons import reason_for
from bot.search.similar import SimilarIncident, SimilarSearch
from bot.services.context import ServiceContext
from bot.services.publishing import DocsLayout

log = logging.getLogger(__name__)

MAX_SHOWN = 3
RCA_SUFFIX = "-rca.md"


class SimilarIncidents:
    """Finds and posts the past incidents most like a new one."""

    def __init__(
        self,
        ctx: ServiceContext,
        chat: Chat,
        publisher: Publisher | None,
        layout: DocsLayout,
        search: SimilarSearch | None = None,
    ) -> None:
        self._ctx = ctx
        self._chat = chat
        self._publisher = publisher
        self._layout = layout
        self._search = search or SimilarSearch()

    def post(self, incident: Incident) -> None:
        """Post the up to three RCAs most like `incident` in its channel; nothing when none matches."""
        if self._publisher is None or incident.room_id is None:
            return
        past = self.find(incident, self._publisher)
        if past:
            self._chat.similar_incidents(incident, past)

    def find(self, incident: Incident, publisher: Publisher) -> list[PastIncident]:
        """The RCAs most like `incident`, best first, leaving out its own and private incidents' RCAs."""
        query = f"{incident.title}\n{incident.summary}"
        try:
            try:
                publisher.pull()
            except PublishError as error:
                log.warning("looking for similar incidents without pulling the docs repo: %s", error)
            found = self._search.search(
                # The runbook's file names (`YYYY-MM-DD-<slug>-rca.md`), as the scan of open items reads them.
                blobs=publisher.list_blobs(self._layout.incidents_dir, suffix=RCA_SUFFIX),
                read=publisher.read_blobs,
                text=query,
                limit=MAX_SHOWN,
                exclude_paths=self._hidden(incident),
            )
        except PublishError as error:
            log.warning("could not look for incidents similar to #%s: %s", incident.id, error)
            return []
        return [self._shown(item, query) for item in found]

    def _hidden(self, incident: Incident) -> set[str]:
        """Its own RCA (when reopened), and every private incident's: their titles stay in their channels."""
        with self._ctx.reader() as uow:
            others = uow.incidents.list_active() + uow.incidents.list_resolved()
        hidden = {other.rca_path for other in others if other.private and other.rca_path}
        if incident.rca_path:
            hidden.add(incident.rca_path)
        return hidden

    def _shown(self, item: SimilarIncident, query: str) -> PastIncident:
        return PastIncident(
            title=item.title,
            severity=item.severity,
            happened_on=item.happened_on,
            path=item.path,
            link=self._layout.web_link(quote(item.path, safe="/")),
            reason=reason_for(item, query=query),
        )
