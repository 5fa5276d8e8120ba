"""The review report: per channel reach, cost, conversions, revenue and ROI; lift over holdout."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from broadcast.summary import broadcast_lines
from db.campaigns import get_campaign, load_spec
from engagement.summary import REVIEW_COLUMNS, engagement_by_channel
from models.contracts import Phase
from models.tables import AudienceMember, Delivery, Order, PlannedSend
from reporting.journey_review import journey_review
from reporting.lift import lift_interval, wilson
from reporting.money import money
from reporting.send_facts import bought_after, empty_line, status_counts
from reporting.timeline import sends_over_time


def _ratio(num: Decimal | float | int, den: Decimal | float | int) -> float | None:
    return float(num) / float(den) if den else None


def channel_counts(session: Session, campaign_id: str) -> dict[str, dict[str, Any]]:
    return {
        channel: line
        for (channel,), line in status_counts(session, campaign_id, PlannedSend.channel).items()
    }


def _attributed(
    session: Session, campaign_id: str, window: timedelta
) -> dict[str, tuple[int, Decimal, Decimal]]:
    """channel → (converted customers, revenue, cost); orders within the window after the send."""
    sent = (
        select(Delivery.customer_id, Delivery.channel, Delivery.sent_at)
        .where(Delivery.campaign_id == campaign_id, Delivery.outcome == "sent")
        .subquery()
    )
    conv = session.execute(
        select(sent.c.channel, func.count(distinct(Order.customer_id)), func.sum(Order.amount))
        .join(Order, bought_after(session, sent, window))
        .group_by(sent.c.channel)
    ).all()
    costs = dict(
        session.execute(
            select(Delivery.channel, func.sum(Delivery.cost))
            .where(Delivery.campaign_id == campaign_id, Delivery.outcome == "sent")
            .group_by(Delivery.channel)
        ).all()
    )
    result = {ch: (n, Decimal(rev or 0), Decimal(costs.get(ch) or 0)) for ch, n, rev in conv}
    for ch, cost in costs.items():
        result.setdefault(ch, (0, Decimal(0), Decimal(cost or 0)))
    return result


def _group_rates(
    session: Session, campaign_id: str, start: datetime, end: datetime
) -> dict[bool, tuple[int, int]]:
    """holdout flag → (members, members with an order in [start, end]) for the targeted audience."""
    bought = (
        select(Order.id)
        .where(
            Order.customer_id == AudienceMember.customer_id,
            Order.ordered_at >= start,
            Order.ordered_at <= end,
        )
        .exists()
    )
    rows = session.execute(
        select(AudienceMember.holdout, func.count(), func.sum(case((bought, 1), else_=0)))
        .where(AudienceMember.campaign_id == campaign_id, AudienceMember.excluded_reason.is_(None))
        .group_by(AudienceMember.holdout)
    ).all()
    return {bool(h): (n, int(c or 0)) for h, n, c in rows}


def _attribution(session: Session, campaign_id: str, window: timedelta) -> dict[str, Any]:
    """When the last send's attribution window closes: the final review is due no earlier."""
    last = session.execute(
        select(func.max(Delivery.sent_at)).where(
            Delivery.campaign_id == campaign_id, Delivery.outcome == "sent"
        )
    ).scalar_one()
    return {
        "window_seconds": int(window.total_seconds()),
        "last_send_at": None if last is None else last.isoformat(),
        "closes_at": None if last is None else (last + window).isoformat(),
    }


def compute_review(
    session: Session, campaign_id: str, at: datetime, final: bool = False
) -> dict[str, Any]:
    """The full report as plain data (stored as JSON, printed by the CLI). Only the review
    after the attribution window is `final`; any earlier report is "so far": its KPIs are
    pending (`met` None), never missed, and its phase is the campaign's at `at`. A journey's
    report adds what each step and A/B variant saw (`journey`)."""
    campaign = get_campaign(session, campaign_id)
    spec = load_spec(session, campaign_id)
    window = spec.review.attribution_window
    channels = channel_counts(session, campaign_id)
    for ch, (buyers, revenue, cost) in _attributed(session, campaign_id, window).items():
        line = channels.setdefault(ch, empty_line())
        line.update(
            conversions=buyers,
            revenue=money(revenue),
            cost=money(cost),
            roi=_ratio(revenue, cost),
        )
    for ch, counts in engagement_by_channel(session, campaign_id).items():
        channels.setdefault(ch, empty_line()).update(counts)
    for line in channels.values():
        for name in REVIEW_COLUMNS:
            line.setdefault(name, 0)
        line.setdefault("conversions", 0)
        line.setdefault("revenue", money(0))
        line.setdefault("cost", money(0))
        line.setdefault("roi", None)
    attribution = _attribution(session, campaign_id, window)
    closes = spec.send_window.end
    if spec.journey and attribution["last_send_at"] is not None:
        # a journey's later steps send after the window: its lift counts orders until then too
        closes = max(closes, datetime.fromisoformat(attribution["last_send_at"]))
    groups = _group_rates(session, campaign_id, spec.send_window.start, closes + window)
    treated_n, treated_buy = groups.get(False, (0, 0))
    hold_n, hold_buy = groups.get(True, (0, 0))
    rate_t, rate_h = _ratio(treated_buy, treated_n), _ratio(hold_buy, hold_n)
    broadcast = broadcast_lines(session, campaign_id)
    revenue = sum((Decimal(line["revenue"]) for line in channels.values()), Decimal(0)) + sum(
        (Decimal(b["revenue"]) for b in broadcast if b["revenue"] is not None), Decimal(0)
    )
    cost = sum((Decimal(line["cost"]) for line in channels.values()), Decimal(0)) + sum(
        (Decimal(b["actual_cost"]) for b in broadcast), Decimal(0)
    )
    total = {
        key: sum(line[key] for line in channels.values())
        for key in ("planned", "sent", "failed", "suppressed", "cancelled", "conversions")
    }
    reach = _ratio(total["sent"], treated_n)
    lift = (rate_t - rate_h) / rate_h if rate_t is not None and rate_h else None
    actual = {
        "reach_rate": reach,
        "conversion_rate": rate_t,
        "roi": _ratio(revenue, cost),
        "lift": lift,
    }
    kpi = {
        name: {
            "target": target,
            "actual": actual[name],
            "met": (actual[name] is not None and actual[name] >= target) if final else None,
        }
        for name, target in spec.kpi.model_dump().items()
        if target is not None
    }
    report = {
        "campaign_id": campaign_id,
        "name": campaign.name,
        "objective": campaign.objective,
        "phase": Phase.COMPLETED.value if final else campaign.phase,
        "final": final,
        "generated_at": at.isoformat(),
        "attribution": attribution,
        "budget_limit": money(campaign.budget_limit),
        "channels": channels,
        "broadcast": broadcast,
        "total": total
        | {"revenue": money(revenue), "cost": money(cost), "roi": _ratio(revenue, cost)},
        "groups": {
            "treated": treated_n,
            "treated_converted": treated_buy,
            "treated_rate": rate_t,
            "treated_ci": wilson(treated_buy, treated_n),
            "holdout": hold_n,
            "holdout_converted": hold_buy,
            "holdout_rate": rate_h,
            "holdout_ci": wilson(hold_buy, hold_n),
            "lift": lift,
            "lift_ci": lift_interval(treated_buy, treated_n, hold_buy, hold_n),
        },
        "kpi": kpi,
        "timeline": sends_over_time(session, campaign_id),
    }
    if spec.journey:
        report["journey"] = journey_review(session, campaign_id, spec)
    return report
