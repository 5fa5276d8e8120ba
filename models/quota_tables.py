"""WeChat subscribe-message quota: how many messages each customer still allows per template.

`subscription_quota` is the balance (one row per customer, account and template);
`subscription_quota_events` is its append-only history, one row per change, so a balance can
be explained later. `source_key` is the identity of the WeChat push that caused a change: a
redelivered push finds its key taken and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, UtcDateTime


class SubscriptionQuota(Base):
    __tablename__ = "subscription_quota"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    template: Mapped[str] = mapped_column(String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("remaining >= 0", name="remaining_not_negative"),)


class SubscriptionQuotaEvent(Base):
    """One change: `kind` accept | long_term | send | release | provider_43101 | reject;
    `change` is the signed amount (None when the balance was set, not moved)."""

    __tablename__ = "subscription_quota_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Id)
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    change: Mapped[int | None] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    __table_args__ = (
        Index("ix_subscription_quota_events_pair", "customer_id", "channel", "template", "at"),
    )
