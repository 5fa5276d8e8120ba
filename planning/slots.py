"""Send-time slots: where in the campaign window a customer with best local hour h is sent.

Window [S, E) of length L. Nominal time for hour h:
  L < 1 day (demo campaigns of minutes): S + h/24 · L, slot length L/24 — the hour is mapped
  proportionally onto the window, so customers with different best hours get different times;
  L ≥ 1 day: the first h:00 local at or after S, slot length one hour.
The slot is then moved into the nearest allowed stretch (inside the window, outside every quiet
period of the channel in the customer's time zone: the spec's quiet hours and, for marketing SMS
and calls, the hours outside the legal sending window): kept if the nominal time is allowed, else
the next allowed stretch, else the last allowed stretch before it. No allowed time at all: no
slot (the customer is dropped with reason 'quiet_hours'). Each slot is cut into SUBSLOTS times; a
customer takes sub-slot (id mod SUBSLOTS), which spreads sends evenly and keeps each person's
time stable.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfoNotFoundError

from models.spec import QuietHours, SendWindow
from policy.quiet_hours import Quiet, local_hour_at, periods, zone

SUBSLOTS = 60
Interval = tuple[datetime, datetime]


def _at(day: date, clock: time, tz: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone(tz))


def _minus(span: Interval, tz: str, quiet: QuietHours) -> list[Interval]:
    """[start, end) minus one daily quiet period local to `tz`, as sorted UTC intervals."""
    start, end = span
    first = start.astimezone(zone(tz)).date() - timedelta(days=1)
    last = end.astimezone(zone(tz)).date() + timedelta(days=1)
    wraps = quiet.end <= quiet.start
    free: list[Interval] = []
    cursor = start
    day = first
    while day <= last:
        q_start = _at(day, quiet.start, tz)
        q_end = _at(day + timedelta(days=1) if wraps else day, quiet.end, tz)
        if q_end > cursor and q_start < end:
            if q_start > cursor:
                free.append((cursor, q_start))
            cursor = max(cursor, q_end)
        day += timedelta(days=1)
    if cursor < end:
        free.append((cursor, end))
    return [(a, b) for a, b in free if b > a]


def allowed_intervals(start: datetime, end: datetime, tz: str, quiet: Quiet) -> list[Interval]:
    """[start, end) minus every daily quiet period local to `tz`, as sorted UTC intervals."""
    free = [(start, end)]
    for period in periods(quiet):
        free = [part for span in free for part in _minus(span, tz, period)]
    return free


def _nominal(window: SendWindow, hour: int, tz: str) -> tuple[datetime, timedelta]:
    length = window.end - window.start
    if length < timedelta(days=1):
        return window.start + length * hour / 24, length / 24
    at = local_hour_at(window.start, hour, tz)
    day = 1
    while at < window.start:
        at = local_hour_at(window.start + timedelta(days=day), hour, tz)
        day += 1
    return at, timedelta(hours=1)


def slot(window: SendWindow, quiet: Quiet, tz: str, hour: int) -> Interval | None:
    """The allowed [a, b) for customers in `tz` whose best hour is `hour`; None if none."""
    free = allowed_intervals(window.start, window.end, tz, quiet)
    if not free:
        return None
    nominal, length = _nominal(window, hour, tz)
    for a, b in free:
        if a <= nominal < b:
            return nominal, min(nominal + length, b)
        if a > nominal:
            return a, min(a + length, b)
    a, b = free[-1]
    return max(a, b - length), b


def slot_times(window: SendWindow, quiet: Quiet, tz: str, hour: int) -> list[datetime] | None:
    """SUBSLOTS send times inside the slot, or None when the zone is unknown or all quiet."""
    try:
        found = slot(window, quiet, tz, hour)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    if found is None:
        return None
    a, b = found
    step = (b - a) / SUBSLOTS
    last = b - timedelta(microseconds=1)
    return [min(a + step * k, last) for k in range(SUBSLOTS)]
