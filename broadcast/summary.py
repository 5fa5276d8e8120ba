"""Broadcast lines for the review: planned against actual cost, reach and ROI per line.

Lines come from the campaign's spec (so planned lines show before any result is in) plus any
stored line that still has results; results are summed in SQL. Revenue is only what the results
files reported (their optional `revenue` column): broadcast reach is not addressable, so no
order can be attributed to it. ROI is revenue / actual cost, as for the addressable channels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.campaigns import get_campaign
from models.broadcast_lines import lines_from_spec
from models.engagement_tables import BroadcastLineRow, BroadcastResult

CENT = Decimal("0.01")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT))


def broadcast_lines(session: Session, campaign_id: str) -> list[dict[str, Any]]:
    """One dict per line: line, channel, planned_cost, actual_cost, impressions, clicks, visits,
    leads, revenue (None unless reported), roi (None without revenue or cost), days_reported."""
    planned: dict[str, tuple[str, Decimal]] = {
        line.key: (line.channel, line.planned_cost)
        for line in lines_from_spec(get_campaign(session, campaign_id).spec)
    }
    stored = session.execute(
        select(
            BroadcastLineRow.line, BroadcastLineRow.channel, BroadcastLineRow.planned_cost
        ).where(BroadcastLineRow.campaign_id == campaign_id)
    ).all()
    for line, channel, cost in stored:
        planned.setdefault(line, (channel, Decimal(cost)))
    r = BroadcastResult
    sums = {
        row.line: row
        for row in session.execute(
            select(
                r.line,
                func.count().label("days"),
                func.sum(r.cost).label("cost"),
                func.sum(r.impressions).label("impressions"),
                func.sum(r.clicks).label("clicks"),
                func.sum(r.visits).label("visits"),
                func.sum(r.leads).label("leads"),
                func.sum(r.revenue).label("revenue"),
            )
            .where(r.campaign_id == campaign_id)
            .group_by(r.line)
        ).all()
    }
    out = []
    for line, (channel, planned_cost) in sorted(planned.items()):
        got = sums.get(line)
        cost = Decimal(got.cost) if got is not None else Decimal(0)
        revenue = Decimal(got.revenue) if got is not None and got.revenue is not None else None
        out.append(
            {
                "line": line,
                "channel": channel,
                "planned_cost": _money(planned_cost),
                "actual_cost": _money(cost),
                **{
                    k: int(getattr(got, k) or 0) if got is not None else 0
                    for k in ("impressions", "clicks", "visits", "leads")
                },
                "revenue": _money(revenue),
                "roi": float(revenue / cost) if revenue is not None and cost else None,
                "days_reported": int(got.days) if got is not None else 0,
            }
        )
    return out
