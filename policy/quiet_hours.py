"""Quiet hours in the customer's own time zone: nothing is sent inside them, sends wait."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from models.spec import QuietHours


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_quiet_hours(at: datetime, tz: str, quiet: QuietHours | None) -> bool:
    """True when `at` falls inside the quiet window, local to `tz` (the window may wrap midnight)."""
    if quiet is None:
        return False
    local = at.astimezone(zone(tz)).time()
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def next_allowed(at: datetime, tz: str, quiet: QuietHours | None) -> datetime:
    """`at` itself if allowed, else the end of the quiet window it falls in (as UTC)."""
    if not in_quiet_hours(at, tz, quiet):
        return at
    assert quiet is not None
    local = at.astimezone(zone(tz))
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone(tz))
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone(tz))
    return end.astimezone(UTC)


def local_hour_at(day_start: datetime, hour: int, tz: str) -> datetime:
    """The UTC instant of `hour`:00 local time on the local date of `day_start`."""
    local = day_start.astimezone(zone(tz))
    return datetime.combine(local.date(), time(hour), tzinfo=zone(tz)).astimezone(UTC)
