"""The weekly digest: when it is due (DIGEST_TIME, e.g. `Monday 09:00` in TIMEZONE), which week it covers,
and what it holds (that week's numbers, and the charts' longer view)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.core.reminders import local_day_due

if TYPE_CHECKING:
    # Only annotations: the daily check asks whether a digest is due without loading the numbers' models.
    from bot.core.stats_report import StatsReport

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The charts show this many weeks up to the digest's week, so a trend is visible.
CHART_WEEKS = 12
_WEEKLY = re.compile(r"^\s*(?P<day>[A-Za-z]+)\.?(?:[\s,]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}))?\s*$")


@dataclass(frozen=True)
class WeeklyTime:
    """A day of the week (0 is Monday) and a wall-clock time."""

    weekday: int
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday].capitalize()} {self.at:%H:%M}"


@dataclass(frozen=True)
class DigestWeek:
    """The digest due on `day`: the numbers of the seven days before it, the charts of the weeks up to it."""

    day: date

    @property
    def since(self) -> date:
        return self.day - timedelta(days=7)

    @property
    def until(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def charts_since(self) -> date:
        return self.day - timedelta(days=7 * CHART_WEEKS)


@dataclass(frozen=True)
class ChartFile:
    """A chart to upload: its file name, its title and its PNG bytes."""

    name: str
    title: str
    png: bytes


@dataclass(frozen=True)
class Digest:
    week: DigestWeek
    numbers: StatsReport  # the week's
    trend: StatsReport  # the charts' weeks

    def chart_name(self, name: str) -> str:
        """`incidents-per-week.png` as this digest's file, `incidents-per-week-2026-11-23.png`."""
        stem, _, suffix = name.rpartition(".")
        return f"{stem}-{self.week.day.isoformat()}.{suffix}"


ChartRenderer = Callable[["StatsReport"], list[ChartFile]]


class DigestChat(Protocol):
    """What the digest asks of the chat platform."""

    def post_digest(self, channel: str, digest: Digest) -> str:
        """Post the digest's numbers; returns the message's id."""
        ...

    def upload_charts(self, channel: str, charts: Sequence[ChartFile], *, comment: str) -> None:
        """Share the chart files in `channel` in one message (once: a retry finds an earlier upload)."""
        ...


def parse_weekly_time(text: str) -> WeeklyTime:
    """`Monday 09:00`, `mon 9:00`, `Friday` (09:00); ValueError for anything else."""
    match = _WEEKLY.match(text)
    day = match.group("day").lower() if match else ""
    found = [index for index, name in enumerate(WEEKDAYS) if len(day) >= 3 and name.startswith(day)]
    if not match or len(found) != 1:
        raise ValueError(f"{text!r} is not a day and time such as `Monday 09:00`")
    hour, minute = int(match.group("hour") or 9), int(match.group("minute") or 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a day and time such as `Monday 09:00`")
    return WeeklyTime(weekday=found[0], at=time(hour, minute))


def digest_due(now: datetime, *, tz: str, when: WeeklyTime) -> DigestWeek | None:
    """The digest due at `now`: on its weekday, once its time has come (None on other days and before it)."""
    day = local_day_due(now, tz=tz, at=when.at)
    if day is None or day.weekday() != when.weekday:
        return None
    return DigestWeek(day=day)


def current_week(today: date, *, weekday: int) -> DigestWeek:
    """The digest whose day is the last `weekday` on or before `today` (what `incident-bot digest` posts)."""
    return DigestWeek(day=today - timedelta(days=(today.weekday() - weekday) % 7))
