"""What each verified callback does to the database: find the sends, store the events once.

Every function returns `Applied`: events newly stored, and `unmatched` items whose send is not
known (yet). Receipts can outrun the recording of the send they report on, so the service
answers those with a 503 and the provider pushes again later; redelivered events that were
stored the first time are skipped by their dedupe key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.outbound_call import CallReport, CallResult
from consent.call_whitelist import drop_number
from engagement.call_evidence import record_call_evidence
from engagement.events import EventType, NewEvent
from engagement.receipts import Receipt
from engagement.store import (
    links_by_idempotency_key,
    links_by_planned_send,
    links_by_provider_id,
    record,
)
from engagement.subscribe_quota import apply_subscribe_events
from engagement.wechat_events import SubscribePush
from models.tables import Customer
from optout.apply import UnknownCustomer, opt_out

SMS_CHANNELS = ("sms",)
CALL_EVENTS = {
    CallResult.ANSWERED: EventType.CALL_ANSWERED,
    CallResult.REFUSED: EventType.CALL_REFUSED,
    CallResult.NO_ANSWER: EventType.CALL_NO_ANSWER,
    CallResult.BUSY: EventType.CALL_NO_ANSWER,
    CallResult.FAILED: EventType.FAILED_DELIVERY,
}
SUBSCRIBE_EVENTS = {"accept": EventType.SUBSCRIBE_ACCEPTED, "reject": EventType.SUBSCRIBE_REJECTED}


@dataclass(frozen=True)
class Applied:
    stored: int
    unmatched: int = 0


def apply_receipts(
    session: Session, provider: str, receipts: list[Receipt], at: datetime
) -> Applied:
    """Delivery receipts: by our idempotency key when the provider echoes it, else its id."""
    by_key = links_by_idempotency_key(session, [r.key for r in receipts if r.key])
    by_id = links_by_provider_id(
        session,
        SMS_CHANNELS,
        [r.provider_id for r in receipts if r.provider_id and r.key not in by_key],
    )
    events, unmatched = [], 0
    for r in receipts:
        link = by_key.get(r.key or "") or by_id.get(r.provider_id or "")
        if link is None:
            unmatched += 1
            continue
        kind = EventType.DELIVERED if r.delivered else EventType.FAILED_DELIVERY
        events.append(
            NewEvent.for_send(link, kind, provider, r.occurred_at, detail={"code": r.code})
        )
    return Applied(record(session, events, at), unmatched)


def _customer_by_openid(session: Session, openid: str) -> int | None:
    return session.execute(
        select(Customer.id)
        .where(Customer.wechat_openid == openid, Customer.erased_at.is_(None))
        .order_by(Customer.id)
        .limit(1)
    ).scalar_one_or_none()


def apply_wechat(session: Session, channel: str, push: SubscribePush, at: datetime) -> Applied:
    """Subscription accept/reject (for the quota ledger) and send results of one push."""
    occurred = datetime.fromtimestamp(push.create_time, UTC)
    if push.event == "subscribe_msg_sent_event":
        links = links_by_provider_id(session, (channel,), [i.get("MsgID", "") for i in push.items])
        events, unmatched = [], 0
        for item in push.items:
            link = links.get(item.get("MsgID", ""))
            if link is None:
                unmatched += 1
                continue
            code = item.get("ErrorCode", "")
            kind = EventType.DELIVERED if code == "0" else EventType.FAILED_DELIVERY
            events.append(
                NewEvent.for_send(
                    link,
                    kind,
                    "wechat",
                    occurred,
                    detail={"code": code, "status": item.get("ErrorStatus", "")[:64]},
                )
            )
        return Applied(record(session, events, at), unmatched)
    customer = _customer_by_openid(session, push.openid)
    if customer is None:
        return Applied(0, len(push.items))
    events = [
        NewEvent(
            SUBSCRIBE_EVENTS[status],
            "wechat",
            occurred,
            None,
            channel,
            (status, channel, push.openid, push.create_time, item.get("TemplateId", ""), n),
            customer,
            {"template_id": item.get("TemplateId", "")[:128], "event": push.event},
        )
        for n, item in enumerate(push.items)
        if (status := item.get("SubscribeStatusString", "")) in SUBSCRIBE_EVENTS
    ]
    apply_subscribe_events(session, events, at)
    return Applied(record(session, events, at))


def apply_call(session: Session, report: CallReport, at: datetime) -> Applied:
    """A call's result and its evidence; a refusal also opts the customer out of calls
    (do-not-call, for every campaign) and takes the number off the call whitelist."""
    link = links_by_idempotency_key(session, [report.task_id]).get(report.task_id)
    if link is None:
        return Applied(0, 1)
    record_call_evidence(session, link, report, at)
    occurred = report.ended_at or at
    detail = {"result": report.result.value, "duration_seconds": report.duration_seconds}
    events = [
        NewEvent.for_send(link, CALL_EVENTS[report.result], "call_center", occurred, detail=detail)
    ]
    if report.result is CallResult.REFUSED:
        events.append(
            NewEvent.for_send(
                link,
                EventType.UNSUBSCRIBED,
                "call_center",
                occurred,
                detail={"source": "call_refused"},
            )
        )
        try:
            opt_out(
                session,
                customer_id=link.customer_id,
                channel="outbound_call",
                source="call_refused",
                at=at,
                actor="provider:call_center",
                campaign_id=link.campaign_id,
            )
        except UnknownCustomer:
            pass  # the send outlived its customer row: nothing left to suppress
        customer = session.get(Customer, link.customer_id)
        if customer is not None and customer.phone_index:
            drop_number(
                session,
                customer.phone_index,
                by="provider:call_center",
                at=at,
                reason="refused during a call",
            )
    return Applied(record(session, events, at))


def apply_open(session: Session, planned_send_id: int, at: datetime) -> Applied:
    """The first load of a send's open pixel (later loads are the same event)."""
    link = links_by_planned_send(session, [planned_send_id]).get(planned_send_id)
    if link is None:
        return Applied(0, 1)
    return Applied(record(session, [NewEvent.for_send(link, EventType.OPENED, "pixel", at)], at))


def apply_click(session: Session, planned_send_id: int, target: str, at: datetime) -> Applied:
    """The first click on each link of a send; only the target's host is kept."""
    link = links_by_planned_send(session, [planned_send_id]).get(planned_send_id)
    if link is None:
        return Applied(0, 1)
    event = NewEvent.for_send(
        link,
        EventType.CLICKED,
        "redirect",
        at,
        target,
        detail={"host": urlsplit(target).hostname or ""},
    )
    return Applied(record(session, [event], at))
