"""Shared by the engagement and broadcast tests: a PostgreSQL database of their own with the
whole schema, and factories for a campaign and its sends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import models.engagement_tables  # noqa: F401  (registers the tables under test)
import models.schema  # noqa: F401  (every other table)
from channels.base import OutboundMessage, SendResult
from channels.sms_aliyun import AliyunSmsChannel
from channels.sms_tencent import TencentSmsChannel
from db.engine import make_engine, session_scope
from models.engagement_tables import MessageEvent
from models.tables import Base, Campaign, Delivery, PlannedSend
from tests.conftest import create_database, drop_database
from tests.governance.dbkit import make_customer, unique_phone

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """One database for the folder; tests make their own campaigns and customers."""
    url = create_database("omni_eng")
    made = make_engine(url)
    Base.metadata.create_all(made)
    try:
        yield made
    finally:
        made.dispose()
        drop_database(url)


def make_campaign(session: Session, spec: dict[str, Any] | None = None) -> str:
    campaign_id = f"c-{uuid.uuid4().hex[:10]}"
    session.add(
        Campaign(
            id=campaign_id,
            name="春季焕新",
            objective="promote",
            owner="ops",
            requested_by="ops",
            spec=spec or {},
            phase="sending",
            budget_limit=Decimal(10000),
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.flush()
    return campaign_id


def make_send(
    session: Session,
    campaign_id: str,
    customer_id: int,
    channel: str,
    *,
    provider_message_id: str | None = None,
    delivered: bool = True,
    sent_at: datetime = NOW,
) -> PlannedSend:
    """A planned send and, when `delivered`, its made send (Delivery) with the provider's id."""
    send = PlannedSend(
        campaign_id=campaign_id,
        customer_id=customer_id,
        channel=channel,
        template="T1",
        scheduled_at=sent_at,
        unit_cost=Decimal("0.05"),
        idempotency_key=f"{campaign_id}:{customer_id}:{channel}:1",
        status="sent" if delivered else "planned",
    )
    session.add(send)
    session.flush()
    if delivered:
        session.add(
            Delivery(
                planned_send_id=send.id,
                campaign_id=campaign_id,
                customer_id=customer_id,
                channel=channel,
                template="T1",
                outcome="sent",
                provider_message_id=provider_message_id,
                cost=Decimal("0.05"),
                sent_at=sent_at,
            )
        )
        session.flush()
    return send


def events_of(session: Session, planned_send_id: int) -> list[str]:
    """Event types stored for a send, sorted."""
    return sorted(
        session.execute(
            select(MessageEvent.event_type).where(MessageEvent.planned_send_id == planned_send_id)
        ).scalars()
    )


def event_total(session: Session) -> int:
    return session.execute(select(func.count()).select_from(MessageEvent)).scalar_one()


def record_delivery(
    session: Session, send: PlannedSend, result: SendResult, sent_at: datetime = NOW
) -> None:
    """The made send for an adapter's answer (what the send engine records)."""
    send.status = "sent"
    session.add(
        Delivery(
            planned_send_id=send.id,
            campaign_id=send.campaign_id,
            customer_id=send.customer_id,
            channel=send.channel,
            template=send.template,
            outcome=result.outcome.value,
            provider_message_id=result.provider_message_id,
            cost=send.unit_cost,
            sent_at=sent_at,
        )
    )
    session.flush()


def message_for(
    send: PlannedSend, address: str, template: str, params: dict[str, str]
) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=send.idempotency_key,
        campaign_id=send.campaign_id,
        customer_id=send.customer_id,
        channel=send.channel,
        address=address,
        template=template,
        body="会员日全场8折",
        params=params,
    )


async def sms_sends(
    engine: Engine,
    channel: AliyunSmsChannel | TencentSmsChannel,
    template: str,
    params: dict[str, str],
    count: int,
) -> tuple[list[int], list[str]]:
    """`count` SMS sends made now through `channel` to customers' own phones."""
    with session_scope(engine) as s:
        campaign = make_campaign(s)
        phones = [unique_phone() for _ in range(count)]
        customers = [make_customer(s, phone=phone) for phone in phones]
        sends = [make_send(s, campaign, c.id, "sms", delivered=False) for c in customers]
        messages = [
            message_for(send, phone, template, params)
            for send, phone in zip(sends, phones, strict=True)
        ]
        async with channel as ch:
            results = await ch.send_batch(messages)
        for send, result in zip(sends, results, strict=True):
            assert result.outcome.value == "sent", result
            record_delivery(s, send, result, sent_at=datetime.now(UTC))
        return [send.id for send in sends], phones
