"""When a customer reaching a wait step moves on: after a duration, at the next local time of
day in their own time zone, or when an awaited event has not come by its timeout."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import case, literal, select
from sqlalchemy.sql import ColumnElement

from content.local_time import customer_zone
from models.journey import Wait
from models.journey_tables import JourneyPosition as JP
from models.tables import Customer, UtcDateTime


def next_local(at: time, tz: str | None, now: datetime) -> datetime:
    """The first moment after `now` when the clock in zone `tz` shows `at` (UTC)."""
    zone = customer_zone(tz)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(UTC)


def due_at(wait: Wait, now: datetime, zones: Iterable[str | None]) -> ColumnElement[datetime]:
    """The due time of each position reaching `wait` (a time of day: per its customer's zone)."""
    if wait.at is None:
        length = wait.event.timeout if wait.event is not None else wait.duration
        assert length is not None
        return literal(now + length, UtcDateTime())
    tz = select(Customer.timezone).where(Customer.id == JP.customer_id).scalar_subquery()
    whens = {z: next_local(wait.at, z, now) for z in zones if z}
    fallback = literal(next_local(wait.at, None, now), UtcDateTime())
    if not whens:
        return fallback
    return case(
        *((tz == z, literal(when, UtcDateTime())) for z, when in whens.items()), else_=fallback
    )
