"""Where each customer stands in a campaign's journey, what each step saw, and A/B winners.

Positions are advanced set-based by the campaign's journey activity (journey/advance.py), never a
workflow or activity per customer. Bulk rows like planned sends: no per-row foreign keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, UtcDateTime


class JourneyPosition(Base):
    """One customer's place: the step, and what they wait for there.

    state: `due` (act at `due_at`), `sending` (the step's send is open), `held` (kept back
    until an A/B test's winner is known), `done` (journey ended), `exited` (goal reached),
    `cancelled`."""

    __tablename__ = "journey_positions"
    campaign_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Id, primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    step_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_journey_positions_due", "campaign_id", "state", "due_at"),)


class JourneyVisit(Base):
    """A customer reached a step (once per step: a loop back is counted in `visits`); the
    per-step funnel reads these. `variant` is the A/B content a send step gave them; `outcome`
    why they left without a send (`no_channel`), or `exited` when the goal took them out here."""

    __tablename__ = "journey_visits"
    campaign_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Id, primary_key=True)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    visits: Mapped[int] = mapped_column(Integer, default=1)
    variant: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(24))


class JourneyWinner(Base):
    """The variant an A/B test's cohort chose for the rest of the audience, and why."""

    __tablename__ = "journey_winners"
    campaign_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    variant: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rates: Mapped[dict[str, Any]] = mapped_column(JSON)
