"""Message events summed up for the review and the CLI, in SQL over the whole campaign.

The review's columns count distinct sends, so a send opened five times is one open. Several
event types fill one column: a store guide's confirmation and an answered call are the
`delivered` of WeCom and calls; a guide's "not sent" is a `failed_delivery`. Email has no
delivery receipts: its reach is the review's `sent`, its engagement the opens and clicks
(opens are a lower bound, and inflated by mail clients that prefetch images).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import SQLColumnExpression, case, distinct, func, select
from sqlalchemy.orm import Session

from engagement.events import EventType
from models.engagement_tables import MessageEvent
from models.tables import PlannedSend

REVIEW_COLUMNS = ("delivered", "failed_delivery", "opened", "clicked", "replied", "unsubscribed")
COLUMN_OF: dict[EventType, str] = {
    EventType.DELIVERED: "delivered",
    EventType.GUIDE_CONFIRMED: "delivered",
    EventType.CALL_ANSWERED: "delivered",
    EventType.FAILED_DELIVERY: "failed_delivery",
    EventType.GUIDE_NOT_SENT: "failed_delivery",
    EventType.OPENED: "opened",
    EventType.CLICKED: "clicked",
    EventType.REPLIED: "replied",
    EventType.UNSUBSCRIBED: "unsubscribed",
}


def _column() -> Any:
    """The review column of an event (None for the types it does not count)."""
    e = MessageEvent
    return case(*((e.event_type == kind.value, name) for kind, name in COLUMN_OF.items()))


def engagement_by_channel(session: Session, campaign_id: str) -> dict[str, dict[str, int]]:
    """channel → {delivered, failed_delivery, opened, clicked, replied, unsubscribed}: the
    number of distinct sends of the campaign with at least one such event."""
    e = MessageEvent
    mapped = (
        select(e.channel, _column().label("name"), e.planned_send_id)
        .where(e.campaign_id == campaign_id, e.event_type.in_([k.value for k in COLUMN_OF]))
        .subquery()
    )
    rows = session.execute(
        select(
            mapped.c.channel, mapped.c.name, func.count(distinct(mapped.c.planned_send_id))
        ).group_by(mapped.c.channel, mapped.c.name)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for channel, name, sends in rows:
        out.setdefault(channel, dict.fromkeys(REVIEW_COLUMNS, 0))[name] = int(sends)
    return out


def engagement_by_step(
    session: Session, campaign_id: str, variant: SQLColumnExpression[str | None] | None = None
) -> dict[tuple[str, str | None], dict[str, int]]:
    """(journey step, variant) → the same columns as `engagement_by_channel`, for the sends
    of a journey's steps (the step and variant are the planned send's; `variant`: an
    expression over the planned send in its place)."""
    e, ps = MessageEvent, PlannedSend
    mapped = (
        select(
            ps.step,
            (ps.variant if variant is None else variant).label("variant"),
            _column().label("name"),
            e.planned_send_id,
        )
        .join(ps, ps.id == e.planned_send_id)
        .where(
            e.campaign_id == campaign_id,
            e.event_type.in_([k.value for k in COLUMN_OF]),
            ps.step.is_not(None),
        )
        .subquery()
    )
    rows = session.execute(
        select(
            mapped.c.step,
            mapped.c.variant,
            mapped.c.name,
            func.count(distinct(mapped.c.planned_send_id)),
        ).group_by(mapped.c.step, mapped.c.variant, mapped.c.name)
    ).all()
    out: dict[tuple[str, str | None], dict[str, int]] = {}
    for step, vid, name, sends in rows:
        out.setdefault((step, vid), dict.fromkeys(REVIEW_COLUMNS, 0))[name] = int(sends)
    return out


def event_counts(session: Session, campaign_id: str) -> list[dict[str, object]]:
    """Every stored event type per channel: events and distinct sends (the CLI's `events`)."""
    e = MessageEvent
    rows = session.execute(
        select(e.channel, e.event_type, func.count(), func.count(distinct(e.planned_send_id)))
        .where(e.campaign_id == campaign_id)
        .group_by(e.channel, e.event_type)
        .order_by(e.channel, e.event_type)
    ).all()
    return [
        {"channel": ch, "event_type": kind, "events": int(n), "sends": int(sends)}
        for ch, kind, n, sends in rows
    ]
