"""The budget (测算): fitting the plan into the limit, and the per-channel figures of the report.

When the plan costs more than the limit, customers are dropped from the end of a ranking until
it fits: free messages first (never dropped), then by expected revenue per cost, highest first,
then by customer id. Everyone past the point where the running cost exceeds the limit is
dropped with reason 'budget'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.orm import Session

from planning.costs import from_units


@dataclass
class BudgetFit:
    limit_units: int
    cost_before_units: int
    dropped: int = 0
    dropped_by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def fits(self) -> bool:
        return self.cost_before_units <= self.limit_units


def fit_budget(session: Session, plan: Table, limit_units: int) -> BudgetFit:
    c = plan.c
    total = session.execute(
        select(func.coalesce(func.sum(c.cost_units), 0)).where(c.dropped.is_(None))
    ).scalar_one()
    fit = BudgetFit(limit_units=limit_units, cost_before_units=int(total))
    if fit.fits:
        return fit
    per_cost = case((c.cost_units == 0, None), else_=c.e_rev / c.cost_units)
    running = func.sum(c.cost_units).over(
        order_by=(case((c.cost_units == 0, 0), else_=1), per_cost.desc(), c.customer_id),
        rows=(None, 0),
    )
    ranked = (
        select(c.customer_id.label("cid"), running.label("run"))
        .where(c.dropped.is_(None))
        .subquery()
    )
    over = select(ranked.c.cid).where(ranked.c.run > limit_units)
    session.execute(update(plan).where(c.customer_id.in_(over)).values(dropped="budget"))
    fit.dropped_by_channel = dict(
        session.execute(
            select(c.channel, func.count()).where(c.dropped == "budget").group_by(c.channel)
        ).all()
    )
    fit.dropped = sum(fit.dropped_by_channel.values())
    return fit


def channel_lines(session: Session, plan: Table, fit: BudgetFit) -> list[dict[str, Any]]:
    """Per channel: count, cost, expectations and ROI; ranked by expected return per cost."""
    c = plan.c
    rows = session.execute(
        select(
            c.channel,
            func.count(),
            func.min(c.unit_cost),
            func.sum(c.cost_units),
            func.sum(c.e_resp),
            func.sum(c.e_conv),
            func.sum(c.e_rev),
        )
        .where(c.dropped.is_(None))
        .group_by(c.channel)
    ).all()
    lines = []
    for channel, n, unit, units, resp, conv, rev in rows:
        cost = from_units(int(units or 0))
        lines.append(
            {
                "channel": channel,
                "planned": int(n),
                "unit_cost": str(unit),
                "cost": str(cost),
                "expected_responses": round(float(resp or 0), 2),
                "expected_conversions": round(float(conv or 0), 2),
                "expected_revenue": round(float(rev or 0), 2),
                "roi": round(float(rev or 0) / float(cost), 4) if cost else None,
                "dropped_for_budget": fit.dropped_by_channel.get(channel, 0),
            }
        )
    lines.sort(key=_rank_key)
    for rank, line in enumerate(lines, 1):
        line["rank"] = rank
    return lines


def _rank_key(line: dict[str, Any]) -> tuple[bool, float, str]:
    """Free channels first (infinite return per cost), then by ROI, highest first."""
    roi = line["roi"]
    return (roi is not None, -float(roi) if isinstance(roi, float) else 0.0, str(line["channel"]))


def drop_counts(session: Session, plan: Table) -> dict[str, int]:
    c = plan.c
    return {
        reason: int(n)
        for reason, n in session.execute(
            select(c.dropped, func.count()).where(c.dropped.is_not(None)).group_by(c.dropped)
        )
    }


def send_span(session: Session, plan: Table) -> tuple[datetime | None, datetime | None]:
    c = plan.c
    first, last = session.execute(
        select(func.min(c.scheduled_at), func.max(c.scheduled_at)).where(c.dropped.is_(None))
    ).one()
    return first, last
