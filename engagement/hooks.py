"""Events from the opt-out service's own paths: SMS replies and unsubscribe links.

The opt-out service (engagement.optout_service) receives these; it calls the two functions
below in the same transaction as the opt-out, so the review can count replies and unsubscribes
per send. A reply carries no message id: it is credited to the customer's latest SMS sent
within `REPLY_WINDOW` before it. Both are idempotent (once per send and type).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.events import EventType, Link, NewEvent
from engagement.store import record
from models.tables import Customer, Delivery, PlannedSend
from optout.inbound import Reply
from optout.keywords import Intent, intent
from privacy.blind_index import blind_index

REPLY_WINDOW = timedelta(days=7)


def _latest_sms(session: Session, phone_index: str, at: datetime) -> list[Link]:
    """Per customer holding the number: the latest SMS made to them within the window."""
    d = Delivery
    rows = session.execute(
        select(d.planned_send_id, d.campaign_id, d.customer_id, d.channel)
        .join(Customer, Customer.id == d.customer_id)
        .where(
            Customer.phone_index == phone_index,
            d.channel == "sms",
            d.outcome == "sent",
            d.sent_at <= at,
            d.sent_at > at - REPLY_WINDOW,
        )
        .order_by(d.customer_id, d.sent_at.desc())
    ).all()
    latest: dict[int, Link] = {}
    for ps_id, campaign, customer, channel in rows:
        latest.setdefault(customer, Link(ps_id, campaign, customer, channel))
    return list(latest.values())


def record_reply(session: Session, reply: Reply, *, provider: str, at: datetime) -> int:
    """`replied` (and `unsubscribed` for an opt-out keyword) on the send being answered."""
    index = blind_index("phone", reply.phone)
    if index is None:
        return 0
    kinds = [EventType.REPLIED]
    if intent(reply.text) is Intent.OPT_OUT:
        kinds.append(EventType.UNSUBSCRIBED)
    events = [
        NewEvent.for_send(link, kind, provider, at, detail={"source": "sms_reply"})
        for link in _latest_sms(session, index, at)
        for kind in kinds
    ]
    return record(session, events, at)


def record_unsubscribe(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    campaign_id: str,
    at: datetime,
    source: str = "unsubscribe_link",
) -> int:
    """`unsubscribed` on the campaign's send to this customer on this channel, if there is one."""
    ps = PlannedSend
    found = session.execute(
        select(ps.id, ps.campaign_id, ps.customer_id, ps.channel)
        .where(ps.campaign_id == campaign_id, ps.customer_id == customer_id, ps.channel == channel)
        .order_by(ps.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return 0
    link = Link(*found)
    event = NewEvent.for_send(link, EventType.UNSUBSCRIBED, source, at, detail={"source": source})
    return record(session, [event], at)
