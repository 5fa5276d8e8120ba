"""WeCom guide confirmation: a created group-message task is only sent when the store guide
taps "send" (CN-22), so the poller asks WeCom for each open task's per-customer status.

Status 1 (sent) becomes `guide_confirmed`; 2 (no longer the guide's contact) and 3 (already got
a group message today) become `guide_not_sent`; 0 (not yet) is left for the next poll. A task
stays open until every send in it has a final event. Run it on a schedule (e.g. hourly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session

from channels.config import ChannelConfigError
from channels.http import ProviderError
from channels.wecom import GroupMsgStatus, RecipientStatus, WeComChannel
from db.engine import session_scope
from engagement.events import EventType, Link, NewEvent
from engagement.store import record
from models.engagement_tables import MessageEvent
from models.tables import Customer, Delivery

FINAL = (EventType.GUIDE_CONFIRMED.value, EventType.GUIDE_NOT_SENT.value)
NOT_SENT = {
    GroupMsgStatus.NOT_FRIEND: "not_friend",
    GroupMsgStatus.ALREADY_RECEIVED: "already_received",
}


@dataclass
class PollResult:
    tasks: int = 0
    confirmed: int = 0
    not_sent: int = 0
    pending: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # provider error code → tasks


def open_tasks(session: Session, channel: str, campaign_id: str | None) -> list[str]:
    """Task ids (msgid) with at least one send that has no final guide event yet."""
    d, e = Delivery, MessageEvent
    query = (
        select(d.provider_message_id)
        .distinct()
        .where(
            d.channel == channel,
            d.outcome == "sent",
            d.provider_message_id.is_not(None),
            ~exists().where(e.planned_send_id == d.planned_send_id, e.event_type.in_(FINAL)),
        )
    )
    if campaign_id is not None:
        query = query.where(d.campaign_id == campaign_id)
    return [m for m in session.execute(query).scalars() if m]


def _record_task(
    engine: Engine,
    channel: str,
    msgid: str,
    statuses: list[RecipientStatus],
    at: datetime,
    result: PollResult,
) -> None:
    d = Delivery
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                Customer.wechat_openid, d.planned_send_id, d.campaign_id, d.customer_id, d.channel
            )
            .join(Customer, Customer.id == d.customer_id)
            .where(d.provider_message_id == msgid, d.channel == channel)
        ).all()
        links = {
            openid: Link(ps, campaign, customer, ch)
            for openid, ps, campaign, customer, ch in rows
            if openid
        }
        events = []
        for status in statuses:
            link = links.get(status.external_userid)
            if link is None:
                continue
            if status.status is GroupMsgStatus.UNSENT:
                result.pending += 1
                continue
            when = datetime.fromtimestamp(status.send_time, UTC) if status.send_time else at
            if status.status is GroupMsgStatus.SENT:
                events.append(NewEvent.for_send(link, EventType.GUIDE_CONFIRMED, "wecom", when))
            else:
                reason = NOT_SENT.get(status.status, str(int(status.status)))
                events.append(
                    NewEvent.for_send(
                        link, EventType.GUIDE_NOT_SENT, "wecom", when, detail={"status": reason}
                    )
                )
        record(session, events, at)
    result.confirmed += sum(e.event_type is EventType.GUIDE_CONFIRMED for e in events)
    result.not_sent += sum(e.event_type is EventType.GUIDE_NOT_SENT for e in events)


async def poll_guide_confirmations(
    engine: Engine,
    channel: WeComChannel,
    *,
    campaign_id: str | None = None,
    sender: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PollResult:
    """Ask WeCom about every open task of `channel` (one campaign, or all) and record results.

    `sender` is the guide's userid the tasks were created for (default: the configured one).
    """
    guide = sender or channel.settings.default_sender
    if guide is None:
        raise ChannelConfigError("no sender given and OMNIREACH_WECOM_DEFAULT_SENDER is not set")

    def pending() -> list[str]:
        with session_scope(engine) as session:
            return open_tasks(session, channel.name, campaign_id)

    result = PollResult()
    for msgid in await asyncio.to_thread(pending):
        result.tasks += 1
        try:
            statuses = await channel.get_groupmsg_send_result(msgid, guide)
        except ProviderError as exc:
            result.errors[exc.error_code] = result.errors.get(exc.error_code, 0) + 1
            continue
        except httpx.HTTPError as exc:
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            continue
        await asyncio.to_thread(
            _record_task, engine, channel.name, msgid, statuses, clock(), result
        )
    return result
