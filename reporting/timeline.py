"""Sends over time by channel for the report's chart: made sends counted per time bucket in
SQL (a campaign may make millions), the bucket widened until the chart has at most
MAX_POINTS bars per channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, select
from sqlalchemy.orm import Session

from models.tables import Delivery

BUCKETS = (60, 300, 900, 3600, 6 * 3600, 86400)  # seconds: 1 min … 1 day
MAX_POINTS = 120


def _epoch_seconds(session: Session) -> Any:
    """Whole UTC seconds of `sent_at` on PostgreSQL (timestamptz) and SQLite (naive UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Delivery.sent_at)), BigInteger)
    return cast(func.strftime("%s", Delivery.sent_at), Integer)


def bucket_for(span_seconds: float) -> int:
    """The narrowest bucket that fits the span in MAX_POINTS bars (a day at most)."""
    return next((b for b in BUCKETS if span_seconds / b < MAX_POINTS), BUCKETS[-1])


def sends_over_time(session: Session, campaign_id: str) -> dict[str, Any]:
    """{"bucket_seconds", "channels": {channel: [[bucket start (ISO, UTC), sends], …]}}."""
    made = (Delivery.campaign_id == campaign_id, Delivery.outcome == "sent")
    first, last = session.execute(
        select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(*made)
    ).one()
    if first is None:
        return {"bucket_seconds": None, "channels": {}}
    bucket = bucket_for((last - first).total_seconds())
    slot = _epoch_seconds(session) // bucket
    rows = session.execute(
        select(Delivery.channel, slot, func.count())
        .where(*made)
        .group_by(Delivery.channel, slot)
        .order_by(Delivery.channel, slot)
    ).all()
    channels: dict[str, list[list[Any]]] = {}
    for channel, n, sends in rows:
        start = datetime.fromtimestamp(int(n) * bucket, UTC).isoformat()
        channels.setdefault(channel, []).append([start, int(sends)])
    return {"bucket_seconds": bucket, "channels": channels}
