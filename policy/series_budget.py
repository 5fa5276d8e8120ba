"""A series' total budget across its runs: each run gets its per-run budget, never more than
what the runs before it have not used or may still use."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.contracts import Phase
from models.series_tables import SeriesRun
from models.tables import Campaign

# From these phases on a campaign sends nothing more: what it spent is all it will spend.
SENDING_OVER = {p.value for p in Phase} - {
    Phase.RESEARCH,
    Phase.PLANNING,
    Phase.AWAITING_APPROVAL,
    Phase.COMPLIANCE_CHECK,
    Phase.SENDING,
}


def _runs(session: Session, series_id: str) -> list[tuple[Decimal, Decimal | None, str | None]]:
    """(budget given, spent, phase) of every run that started a campaign."""
    rows = session.execute(
        select(SeriesRun.budget, Campaign.spent, Campaign.phase)
        .outerjoin(Campaign, Campaign.id == SeriesRun.campaign_id)
        .where(SeriesRun.series_id == series_id, SeriesRun.campaign_id.is_not(None))
    ).all()
    return [(budget, spent, phase) for budget, spent, phase in rows]


def committed(session: Session, series_id: str) -> Decimal:
    """What the runs so far spent, counting a run that may still send at its whole budget."""
    total = Decimal(0)
    for budget, spent, phase in _runs(session, series_id):
        total += (
            (spent or Decimal(0)) if phase in SENDING_OVER else max(budget, spent or Decimal(0))
        )
    return total


def spent(session: Session, series_id: str) -> Decimal:
    """What the runs so far have spent (reserved for sends made or in flight)."""
    return sum((s or Decimal(0) for _, s, _ in _runs(session, series_id)), Decimal(0))


def run_budget(session: Session, series_id: str, per_run: Decimal, total: Decimal) -> Decimal:
    """The next run's budget: the per-run budget, or what is left of the total if less
    (zero or less: the total is used up). Call with the series row locked."""
    return min(per_run, total - committed(session, series_id))
