"""Channel names for incidents: `inc-YYYYMMDD-<slug>`, at most 80 characters."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MAX_CHANNEL_NAME = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


_ENTITY = re.compile(r"&(amp|lt|gt);")
_MARKUP = re.compile(r"<[@#!][^<>|]*\|([^<>]*)>|<[@#!][^<>]*>")


def slugify(title: str) -> str:
    """Lowercase a-z, 0-9 and single hyphens; accents folded, chat markup and everything else dropped."""
    # Titles are chat text: `&lt;` is a `<` someone typed, `<@U1|bob>` a mention (keep its label).
    readable = _ENTITY.sub(" ", _MARKUP.sub(lambda m: m.group(1) or " ", title))
    folded = unicodedata.normalize("NFKD", readable).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", folded.lower()).strip("-")


def incident_channel_name(title: str, declared_on: date, attempt: int = 1) -> str:
    """The channel name for an incident; attempt 2, 3, … add `-2`, `-3`, … after a clash."""
    prefix = f"inc-{declared_on:%Y%m%d}"
    suffix = f"-{attempt}" if attempt > 1 else ""
    room = MAX_CHANNEL_NAME - len(prefix) - len(suffix) - 1
    slug = slugify(title)[:room].rstrip("-") or "incident"
    return f"{prefix}-{slug}{suffix}"
