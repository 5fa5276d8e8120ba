"""Tables of recurring campaigns: the series (its spec and what was approved of it), the
signed decisions on each version of it, and the ledger of its runs (what each was allowed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, Money, UtcDateTime


class CampaignSeries(Base):
    """A recurring campaign: the spec its runs use, and the fingerprint approved (runs start
    only while it equals the current one). The Temporal Schedule is `series-<id>`."""

    __tablename__ = "campaign_series"
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(16))
    approved_fingerprint: Mapped[str | None] = mapped_column(String(16))
    run_budget: Mapped[Decimal] = mapped_column(Money)
    total_budget: Mapped[Decimal] = mapped_column(Money)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SeriesDecision(Base):
    """One approver's signed approval or rejection of one version (fingerprint) of a series."""

    __tablename__ = "series_decisions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("campaign_series.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))  # approved, rejected
    approver: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("series_id", "fingerprint", "approver"),)


class SeriesRun(Base):
    """One scheduled time of a series: the campaign it started and the budget it was given,
    or why it started none. One row per scheduled time: a retried start finds it."""

    __tablename__ = "series_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("campaign_series.id"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    campaign_id: Mapped[str | None] = mapped_column(String(80))
    fingerprint: Mapped[str] = mapped_column(String(16))
    budget: Mapped[Decimal] = mapped_column(Money)
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("series_id", "scheduled_at"),)
