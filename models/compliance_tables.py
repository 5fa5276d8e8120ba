"""Tables of rules that need records of their own: approved personal-information impact
assessments (CN-27), the outbound call whitelist and the evidence of every call (CN-11)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, UtcDateTime

# What a campaign's cited assessment is as of a moment (None where it cites none).
AssessmentStatus = Literal["approved", "unknown", "expired"]


class ImpactAssessment(Base):
    """An approved personal-information protection impact assessment (PIPL Art 55), recorded by
    a compliance officer; campaigns cite its id in their spec (`pia`)."""

    __tablename__ = "impact_assessments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(100))
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CallWhitelistEntry(Base):
    """A number marketing calls may go to: added only while its customer consents to calls;
    `consent_event_id` is that grant (the call evidence cites it)."""

    __tablename__ = "call_whitelist"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(64), unique=True)
    consent_event_id: Mapped[int] = mapped_column(Id)
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallEvidence(Base):
    """One call as the call center reported it: caller, callee (encrypted), when, under which
    consent, where the recording is. Kept for the retention period (at least 30 days)."""

    __tablename__ = "call_evidence"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    planned_send_id: Mapped[int] = mapped_column(Id, unique=True)
    campaign_id: Mapped[str] = mapped_column(String(80))
    customer_id: Mapped[int] = mapped_column(Id)
    caller: Mapped[str | None] = mapped_column(String(32))
    callee_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_event_id: Mapped[int | None] = mapped_column(Id)
    recording_ref: Mapped[str | None] = mapped_column(String(256))
    result: Mapped[str] = mapped_column(String(16))
    called_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_call_evidence_called_at", "called_at"),)
