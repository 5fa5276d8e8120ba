"""Expected effect of one message, per channel and segment, from this retailer's own history.

Over the last HISTORY_DAYS before D:
  response rate   = clicks / messages sent on the channel to the segment; messages sent are
                    the recorded deliveries, or the opens where those are more (history
                    imported from elsewhere has opens but no deliveries);
  conversion rate = share of the segment's clickers with an order within ATTRIBUTION_DAYS after
                    a click (any channel);
  order value     = the segment's M / F from the profiles (all segments when it has no orders).
Rates are smoothed toward channel priors with PRIOR_WEIGHT pseudo-messages (and
CONVERSION_WEIGHT pseudo-clickers), so thin history cannot produce wild estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from models.tables import BehaviorEvent, CustomerProfile, Delivery, Order
from profiles.sqlutil import epoch_seconds

HISTORY_DAYS = 180
ATTRIBUTION_DAYS = 7
PRIOR_WEIGHT = 200
CONVERSION_WEIGHT = 50
PRIOR_CONVERSION = 0.10
PRIOR_RESPONSE = {
    "sms": 0.02,
    "email": 0.01,
    "wechat_oa": 0.05,
    "wechat_mini": 0.05,
    "wecom": 0.08,
    "alipay": 0.02,
    "app_push": 0.015,
    "outbound_call": 0.10,
    "webhook": 0.0,
    "sandbox": 0.05,
}
SEGMENTS = ("loyal", "potential", "dormant", "regular", "none")


@dataclass(frozen=True)
class Rates:
    response: float
    conversion: float
    order_value: float

    @property
    def revenue(self) -> float:
        """Expected revenue of one message."""
        return self.response * self.conversion * self.order_value


def history_rates(
    session: Session, as_of: datetime, channels: list[str]
) -> dict[tuple[str, str], Rates]:
    """(channel, segment) → Rates for every given channel and every segment."""
    since = as_of - timedelta(days=HISTORY_DAYS)
    seg = func.coalesce(CustomerProfile.segment, "none")
    sent = dict(
        ((c, s), n)
        for c, s, n in session.execute(
            select(Delivery.channel, seg, func.count())
            .outerjoin(CustomerProfile, CustomerProfile.customer_id == Delivery.customer_id)
            .where(
                Delivery.outcome == "sent",
                Delivery.sent_at > since,
                Delivery.sent_at <= as_of,
                Delivery.channel.in_(channels),
            )
            .group_by(Delivery.channel, seg)
        )
    )
    ev = BehaviorEvent
    engaged: dict[tuple[str | None, str, str], int] = {
        (c, s, t): n
        for c, s, t, n in session.execute(
            select(ev.channel, seg, ev.event_type, func.count())
            .outerjoin(CustomerProfile, CustomerProfile.customer_id == ev.customer_id)
            .where(
                ev.event_type.in_(("message_open", "message_click")),
                ev.occurred_at > since,
                ev.occurred_at <= as_of,
                ev.channel.in_(channels),
            )
            .group_by(ev.channel, seg, ev.event_type)
        )
    }
    conversion = _conversion(session, as_of, since)
    value = _order_value(session)
    out: dict[tuple[str, str], Rates] = {}
    for channel in channels:
        prior = PRIOR_RESPONSE.get(channel, 0.0)
        for segment in SEGMENTS:
            clicks = engaged.get((channel, segment, "message_click"), 0)
            messages = max(
                sent.get((channel, segment), 0),
                engaged.get((channel, segment, "message_open"), 0),
                clicks,
            )
            response = (clicks + PRIOR_WEIGHT * prior) / (messages + PRIOR_WEIGHT)
            out[(channel, segment)] = Rates(
                response,
                conversion.get(segment, PRIOR_CONVERSION),
                value.get(segment, value.get("*", 0.0)),
            )
    return out


def _conversion(session: Session, as_of: datetime, since: datetime) -> dict[str, float]:
    ev = BehaviorEvent
    click_at, order_at = (
        epoch_seconds(session, ev.occurred_at),
        epoch_seconds(session, Order.ordered_at),
    )
    ordered = (
        select(Order.id)
        .where(
            Order.customer_id == ev.customer_id,
            Order.ordered_at > ev.occurred_at,
            Order.ordered_at <= as_of,
            order_at - click_at <= ATTRIBUTION_DAYS * 86400,
        )
        .exists()
    )
    clickers = (
        select(
            ev.customer_id.label("cid"), func.max(case((ordered, 1), else_=0)).label("converted")
        )
        .where(
            and_(ev.event_type == "message_click", ev.occurred_at > since, ev.occurred_at <= as_of)
        )
        .group_by(ev.customer_id)
        .subquery()
    )
    seg = func.coalesce(CustomerProfile.segment, "none")
    rows = session.execute(
        select(seg, func.count(), func.sum(clickers.c.converted))
        .select_from(clickers)
        .outerjoin(CustomerProfile, CustomerProfile.customer_id == clickers.c.cid)
        .group_by(seg)
    ).all()
    return {
        s: (int(conv or 0) + CONVERSION_WEIGHT * PRIOR_CONVERSION) / (n + CONVERSION_WEIGHT)
        for s, n, conv in rows
    }


def _order_value(session: Session) -> dict[str | None, float]:
    cp = CustomerProfile
    rows = session.execute(
        select(cp.segment, func.sum(cp.monetary), func.sum(cp.frequency)).group_by(cp.segment)
    ).all()
    out = {s: float(Decimal(m) / f) for s, m, f in rows if f}
    spent = sum((Decimal(m or 0) for _, m, _ in rows), Decimal(0))
    bought = sum(f or 0 for _, _, f in rows)
    if bought:
        out["*"] = float(spent / bought)
    return out
