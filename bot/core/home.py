"""What a person's Home tab shows: their open action items, the open incidents they may see, the last
incidents they took part in, with RCA links, and the last 30 days' numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.models import Incident
from bot.core.open_items import OpenItem

if TYPE_CHECKING:
    from bot.core.stats_report import StatsReport

# Items per page: each takes two blocks, and a Home tab holds at most 100.
ITEMS_PER_PAGE = 20
OPEN_INCIDENTS_SHOWN = 15
RESOLVED_SHOWN = 5
# The Home tab's numbers cover this many days, today included.
NUMBERS_DAYS = 30


@dataclass(frozen=True)
class HomeView:
    user_id: str
    now: datetime
    items: tuple[OpenItem, ...]  # this page's, oldest first
    total_items: int
    page: int
    pages: int
    open_incidents: tuple[Incident, ...]
    resolved: tuple[Incident, ...]
    rca_links: Mapping[str, str] = field(default_factory=dict)  # repo path → web link
    numbers: StatsReport | None = None  # the last NUMBERS_DAYS days' (None: not computed)


def page_of(items: list[OpenItem], page: int) -> tuple[list[OpenItem], int, int]:
    """The items of page `page` (clamped), that page, and how many pages there are."""
    pages = max(1, -(-len(items) // ITEMS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    return items[page * ITEMS_PER_PAGE : (page + 1) * ITEMS_PER_PAGE], page, pages
