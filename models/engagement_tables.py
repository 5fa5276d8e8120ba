"""Results coming back: message events (receipts, opens, clicks, replies, call results…) and
broadcast budget lines with the results recorded for them.

`message_events.planned_send_id` has no foreign key on purpose: re-planning deletes planned
sends still in status `planned`, and a late receipt for a send whose answer was lost (status
back to `planned` for a retry) must not make that delete fail.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Customer, Delivery, Id, Money, UtcDateTime

Count = BigInteger().with_variant(Integer(), "sqlite")


class MessageEvent(Base):
    """One thing that happened to a sent message, stored once per `dedupe_key`."""

    __tablename__ = "message_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(80))
    planned_send_id: Mapped[int | None] = mapped_column(Id, index=True)
    customer_id: Mapped[int | None] = mapped_column(Id)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    __table_args__ = (
        Index("ix_message_events_summary", "campaign_id", "channel", "event_type"),
        Index("ix_message_events_customer", "customer_id", "occurred_at"),
    )


class BroadcastLineRow(Base):
    """A campaign's public/offline budget line (copied from its spec when results come in)."""

    __tablename__ = "broadcast_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    line: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    planned_cost: Mapped[Decimal] = mapped_column(Money)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    __table_args__ = (UniqueConstraint("campaign_id", "line"),)


class BroadcastResult(Base):
    """What one line achieved on one day, as reported by the platform or the agency."""

    __tablename__ = "broadcast_results"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    line: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    impressions: Mapped[int] = mapped_column(Count)
    clicks: Mapped[int] = mapped_column(Count)
    visits: Mapped[int] = mapped_column(Count)
    leads: Mapped[int] = mapped_column(Count)
    cost: Mapped[Decimal] = mapped_column(Money)
    revenue: Mapped[Decimal | None] = mapped_column(Money)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("campaign_id", "line", "day"),)


# Look-ups the receivers make on existing tables: receipts name the provider's message id
# (Tencent `sid`, WeChat `MsgID`, WeCom `msgid`), WeChat events and WeCom results the openid.
Index("ix_deliveries_provider_message_id", Delivery.__table__.c.provider_message_id)
Index("ix_customers_wechat_openid", Customer.__table__.c.wechat_openid)
