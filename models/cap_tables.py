"""Send-engine state shared by all workers: the contact ledger (caps) and channel holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, UtcDateTime


class ContactLedger(Base):
    __tablename__ = "contact_ledger"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str] = mapped_column(String(80))
    template: Mapped[str] = mapped_column(String(64))
    planned_send_id: Mapped[int] = mapped_column(ForeignKey("planned_sends.id"), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_contact_ledger_customer_at", "customer_id", "at"),)


class ChannelHold(Base):
    """A channel that kept failing for a campaign is held (not hammered) until `until`."""

    __tablename__ = "channel_holds"
    campaign_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    strikes: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(64))
