"""The contact ledger: every contact reserved or made, across all campaigns, for frequency caps."""

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
