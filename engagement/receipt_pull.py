"""SMS delivery receipts by pull, for sends whose push never came: Alibaba `QuerySendDetails`
per send still without a receipt, Tencent `PullSmsSendStatus` (each status is handed out once).

What is found goes through `apply_receipts`, the path of the pushes, so a receipt that came
both ways is stored once. The worker's receipt-pull schedule runs it; `pull-receipts` by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import httpx
from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session

from channels.http import ProviderError
from channels.sms_aliyun import AliyunSmsChannel
from channels.sms_tencent import TencentSmsChannel
from db.engine import session_scope
from engagement.events import EventType
from engagement.handlers import apply_receipts
from engagement.receipts import Receipt, from_aliyun_details, from_tencent_pull
from models.engagement_tables import MessageEvent
from models.tables import Customer, Delivery
from optout.inbound import BadPayload
from privacy.cipher import decrypt

Clock = Callable[[], datetime]
LOOKBACK = timedelta(days=3)  # Alibaba keeps send details 30 days; older sends are settled
MAX_PULLS = 100  # Tencent calls per run: 100 × 100 statuses
BEIJING = timezone(timedelta(hours=8))
RECEIPTS = (EventType.DELIVERED.value, EventType.FAILED_DELIVERY.value)


@dataclass
class PullResult:
    provider: str  # aliyun or tencent
    asked: int = 0  # provider calls made
    received: int = 0  # final statuses the provider gave
    stored: int = 0  # new events (the rest had come by push already)
    waiting: int = 0  # Alibaba: the carrier has not reported yet
    unmatched: int = 0  # statuses that name no send known here
    errors: dict[str, int] = field(default_factory=dict)  # provider error code → calls

    def failed(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


@dataclass(frozen=True)
class Awaiting:
    """A made SMS send with no receipt yet."""

    biz_id: str
    sent_at: datetime
    phone: str | None


def awaiting_receipts(session: Session, channel: str, since: datetime) -> list[Awaiting]:
    d, e = Delivery, MessageEvent
    rows = session.execute(
        select(d.provider_message_id, d.sent_at, Customer.phone_enc)
        .join(Customer, Customer.id == d.customer_id)
        .where(
            d.channel == channel,
            d.outcome == "sent",
            d.provider_message_id.is_not(None),
            d.sent_at >= since,
            ~exists().where(e.planned_send_id == d.planned_send_id, e.event_type.in_(RECEIPTS)),
        )
        .order_by(d.sent_at)
    ).all()
    return [Awaiting(biz, sent_at, decrypt(phone, "phone")) for biz, sent_at, phone in rows if biz]


def _apply(engine: Engine, provider: str, receipts: list[Receipt], at: datetime) -> tuple[int, int]:
    with session_scope(engine) as session:
        applied = apply_receipts(session, provider, receipts, at)
    return applied.stored, applied.unmatched


async def _record(
    engine: Engine, provider: str, receipts: list[Receipt], result: PullResult, at: datetime
) -> None:
    result.received += len(receipts)
    if receipts:
        stored, unmatched = await asyncio.to_thread(_apply, engine, provider, receipts, at)
        result.stored += stored
        result.unmatched += unmatched


async def pull_aliyun(
    engine: Engine,
    channel: AliyunSmsChannel,
    *,
    lookback: timedelta = LOOKBACK,
    clock: Clock = lambda: datetime.now(UTC),
) -> PullResult:
    """Ask Alibaba about each send of `channel` from the last `lookback` still without a receipt."""
    since = clock() - lookback

    def pending() -> list[Awaiting]:
        with session_scope(engine) as session:
            return awaiting_receipts(session, channel.name, since)

    result = PullResult("aliyun")
    receipts: list[Receipt] = []
    for send in await asyncio.to_thread(pending):
        if send.phone is None:
            continue  # the customer was erased: nothing to ask by
        result.asked += 1
        try:
            details = await channel.send_details(
                send.phone, send.sent_at.astimezone(BEIJING).date(), send.biz_id
            )
            found = from_aliyun_details(send.biz_id, details)
        except ProviderError as exc:
            result.failed(exc.error_code)
            continue
        except BadPayload:
            result.failed("malformed_answer")
            continue
        result.waiting += len(details) - len(found)
        receipts.extend(found)
    await _record(engine, "aliyun", receipts, result, clock())
    return result


async def pull_tencent(
    engine: Engine,
    channel: TencentSmsChannel,
    *,
    max_pulls: int = MAX_PULLS,
    clock: Clock = lambda: datetime.now(UTC),
) -> PullResult:
    """Pull Tencent's statuses until none is left (or `max_pulls` calls) and record them.
    Tencent hands each status out once: one naming a send not known here is counted, not kept."""
    result = PullResult("tencent")
    for _ in range(max_pulls):
        result.asked += 1
        try:
            items = await channel.pull_send_status()
            receipts = from_tencent_pull(items)
        except (ProviderError, httpx.HTTPError) as exc:
            result.failed(exc.error_code if isinstance(exc, ProviderError) else type(exc).__name__)
            break
        except BadPayload:
            result.failed("malformed_answer")
            break
        if not items:
            break
        await _record(engine, "tencent", receipts, result, clock())
    return result
