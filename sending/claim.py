"""Claiming due sends so several workers can share one campaign without taking the same send."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from models.tables import PlannedSend as PS

LEASE = timedelta(minutes=2)  # a claim older than this belongs to a crashed worker
OPEN_STATUSES = ("planned", "sending")


@dataclass(frozen=True)
class Claimed:
    id: int
    customer_id: int
    channel: str
    template: str
    unit_cost: Decimal
    idempotency_key: str
    attempts: int
    # re-claimed from a pass that died: its budget and quota were taken with its first claim
    reserved: bool = False
    # a journey's send step and A/B variant: they choose the copy (spec.content)
    step: str | None = None
    variant: str | None = None


def claim_due(
    session: Session,
    campaign_id: str,
    due_before: datetime,
    limit: int,
    claimer: str,
    now: datetime,
    exclude: Collection[str] = (),
) -> list[Claimed]:
    """Mark up to `limit` due sends as ours. Our own earlier claims (a retried activity) and
    expired claims (a crashed worker) are taken again first; the provider key makes that safe,
    and they come back `reserved`: the claim that died took their budget with it.

    Two statements, one per status, so each walks the (campaign, status, time, id) index in
    order and stops at `limit`: one OR across statuses would sort every due send per claim."""
    stale = and_(PS.status == "sending", or_(PS.claimed_by == claimer, PS.claimed_at < now - LEASE))
    claimed = [
        replace(c, reserved=True)
        for c in _claim(session, campaign_id, stale, limit, claimer, now, exclude)
    ]
    if len(claimed) < limit:
        due = and_(PS.status == "planned", PS.scheduled_at <= due_before)
        claimed += _claim(session, campaign_id, due, limit - len(claimed), claimer, now, exclude)
    return sorted(claimed, key=lambda c: c.id)


def _claim(
    session: Session,
    campaign_id: str,
    which: ColumnElement[bool],
    limit: int,
    claimer: str,
    now: datetime,
    exclude: Collection[str],
) -> list[Claimed]:
    ids = select(PS.id).where(PS.campaign_id == campaign_id, which)
    if exclude:
        ids = ids.where(PS.channel.notin_(list(exclude)))
    ids = ids.order_by(PS.scheduled_at, PS.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    stmt = (
        update(PS)
        .where(PS.id.in_(ids.scalar_subquery()))
        .values(status="sending", claimed_by=claimer, claimed_at=now, attempts=PS.attempts + 1)
        .returning(
            PS.id,
            PS.customer_id,
            PS.channel,
            PS.template,
            PS.unit_cost,
            PS.idempotency_key,
            PS.attempts,
            PS.step,
            PS.variant,
        )
    )
    rows = session.execute(stmt, execution_options={"synchronize_session": False}).all()
    return [Claimed(*row[:7], step=row.step, variant=row.variant) for row in rows]


def next_due(session: Session, campaign_id: str) -> tuple[datetime | None, int]:
    """The earliest planned time still open, and how many sends are still open."""
    earliest, remaining = session.execute(
        select(func.min(PS.scheduled_at), func.count()).where(
            PS.campaign_id == campaign_id, PS.status.in_(OPEN_STATUSES)
        )
    ).one()
    return earliest, remaining
