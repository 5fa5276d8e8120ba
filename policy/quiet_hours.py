"""Quiet hours in the customer's own time zone: nothing is sent inside them, sends wait.

A channel can have several quiet periods at once (the spec's quiet hours and, for marketing SMS
and calls, the hours outside the legal sending window: `compliance.sending_window`); every
function here takes one period, several, or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from models.spec import QuietHours

Quiet = QuietHours | Sequence[QuietHours] | None


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def periods(quiet: Quiet) -> tuple[QuietHours, ...]:
    """The quiet periods as a tuple (empty for None)."""
    if quiet is None:
        return ()
    return (quiet,) if isinstance(quiet, QuietHours) else tuple(quiet)


def _inside(local: time, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def in_quiet_hours(at: datetime, tz: str, quiet: Quiet) -> bool:
    """True when `at` falls inside a quiet period, local to `tz` (periods may wrap midnight)."""
    local = at.astimezone(zone(tz)).time()
    return any(_inside(local, q) for q in periods(quiet))


def _end_of(local: datetime, quiet: QuietHours, tz: str) -> datetime:
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone(tz))
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone(tz))
    return end


def next_allowed(at: datetime, tz: str, quiet: Quiet) -> datetime:
    """`at` itself if allowed, else the first time after it outside every quiet period (UTC).
    Periods that cover the whole day together leave no such time: then the last end found."""
    found = periods(quiet)
    for _ in range(2 * len(found) + 1):
        local = at.astimezone(zone(tz))
        inside = [q for q in found if _inside(local.time(), q)]
        if not inside:
            return at
        at = max(_end_of(local, q, tz) for q in inside).astimezone(UTC)
    return at


def local_hour_at(day_start: datetime, hour: int, tz: str) -> datetime:
    """The UTC instant of `hour`:00 local time on the local date of `day_start`."""
    local = day_start.astimezone(zone(tz))
    return datetime.combine(local.date(), time(hour), tzinfo=zone(tz)).astimezone(UTC)
