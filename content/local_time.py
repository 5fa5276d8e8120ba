"""Times shown to a customer (an offer's end in a message body or SMS parameter) are written in
that customer's own time zone — the one their record carries, Asia/Shanghai when it carries none
or one that does not exist — never in UTC or the server's zone."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.tables import DEFAULT_ZONE

FORMAT = "%Y-%m-%d %H:%M"  # how Chinese retail messages write a date and time: 2026-12-03 01:48


def customer_zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


@lru_cache(maxsize=1024)
def customer_time(at: datetime, tz: str | None) -> str:
    """`at` as the customer reads it: local to their zone, in the message format. Cached: a
    campaign asks for the same end time in the same few zones for every message it sends."""
    return at.astimezone(customer_zone(tz)).strftime(FORMAT)
