"""What the review counts about sends, grouped by any columns of planned sends (a channel, a
journey step, an A/B variant) in one GROUP BY each: campaigns make a million sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from db.intervals import not_later_than
from models.tables import Order, PlannedSend

STATUSES = ("planned", "sent", "failed", "suppressed", "cancelled")


def empty_line() -> dict[str, Any]:
    return {s: 0 for s in STATUSES} | {"suppressed_by": {}}


def status_counts(
    session: Session, campaign_id: str, *keys: SQLColumnExpression[Any]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """keys' values → {planned (all), sent, failed, suppressed, cancelled, suppressed_by}; a
    send still open (planned, sending) counts only in `planned`."""
    rows = session.execute(
        select(*keys, PlannedSend.status, PlannedSend.reason, func.count())
        .where(PlannedSend.campaign_id == campaign_id)
        .group_by(*keys, PlannedSend.status, PlannedSend.reason)
    ).all()
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key, (status, reason, n) = tuple(row[: len(keys)]), row[len(keys) :]
        line = out.setdefault(key, empty_line())
        line[status if status in STATUSES else "planned"] += n
        if status == "suppressed":
            why = reason or "unknown"
            line["suppressed_by"][why] = line["suppressed_by"].get(why, 0) + n
    for line in out.values():
        line["planned"] = sum(line[s] for s in STATUSES)
    return out


def bought_after(session: Session, sent: Subquery, window: timedelta) -> ColumnElement[bool]:
    """Join condition of an order to a made send (`customer_id`, `sent_at`): the customer
    ordered within the attribution window after it."""
    return and_(
        Order.customer_id == sent.c.customer_id,
        Order.ordered_at >= sent.c.sent_at,
        not_later_than(session.get_bind().dialect.name, Order.ordered_at, sent.c.sent_at, window),
    )
