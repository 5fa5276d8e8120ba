"""Closing the sends of a campaign that will never be made (cancelled, failed): each is closed
once with the reason, and what a send in flight had reserved (budget, contact slot, WeChat
quota unit) is given back, so spend stays the sum of the sends made."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from models.tables import PlannedSend as PS
from policy.budget import refund
from policy.frequency_cap import release_contacts
from policy.subscription_quota import WECHAT_CHANNELS, release
from sending.claim import OPEN_STATUSES


def close_open(session: Session, campaign_id: str, status: str, reason: str, at: datetime) -> int:
    """Close every open send (and every send a journey's A/B test holds back) as `status`;
    returns how many were closed."""
    in_flight = session.execute(
        select(PS.id, PS.customer_id, PS.channel, PS.template, PS.unit_cost)
        .where(PS.campaign_id == campaign_id, PS.status == "sending")
        .with_for_update()
    ).all()
    refund(session, campaign_id, sum((row.unit_cost for row in in_flight), Decimal(0)))
    release_contacts(session, [row.id for row in in_flight])
    release(
        session,
        [(r.customer_id, r.channel, r.template) for r in in_flight if r.channel in WECHAT_CHANNELS],
        at,
    )
    result = cast(
        CursorResult[Any],
        session.execute(
            update(PS)
            .where(PS.campaign_id == campaign_id, PS.status.in_((*OPEN_STATUSES, "held")))
            .values(status=status, reason=reason)
        ),
    )
    return result.rowcount or 0
