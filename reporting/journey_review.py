"""The journey part of the review: what each step saw, in spec order, and for a send step
with an A/B test each variant against the first (the control), with the winner if one was
picked. Every count comes from one GROUP BY over the campaign's rows, keyed by step and
variant; a step's numbers are the sum of its variants' (a customer gets one variant a step)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import SQLColumnExpression, and_, distinct, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from engagement.summary import REVIEW_COLUMNS, engagement_by_step
from models.journey import Step
from models.journey_tables import JourneyVisit, JourneyWinner
from models.spec import CampaignSpec
from models.tables import Delivery, Order, PlannedSend
from planning.step_sends import ROLLOUT, reported_variant
from reporting.money import money
from reporting.proportions import compare
from reporting.send_facts import bought_after, empty_line, status_counts

Key = tuple[str, str | None]
# the rates an A/B comparison reads, per send: name → the count over `sent`
RATES = {"click": "clicked", "conversion": "converted"}


def _visits(session: Session, campaign_id: str, spec: CampaignSpec) -> dict[Key, dict[str, Any]]:
    """(step, variant) → entered, and `left`: why some ended there (no channel, the goal)."""
    v = JourneyVisit
    variant = reported_variant(campaign_id, spec, v.step, v.customer_id, v.variant)
    rows = session.execute(
        select(v.step, variant, v.outcome, func.count())
        .where(v.campaign_id == campaign_id)
        .group_by(v.step, variant, v.outcome)
    ).all()
    out: dict[Key, dict[str, Any]] = {}
    for step, vid, outcome, n in rows:
        line = out.setdefault((step, vid), {"entered": 0, "left": {}})
        line["entered"] += n
        if outcome is not None:
            line["left"][outcome] = line["left"].get(outcome, 0) + n
    return out


def _converted_and_cost(
    session: Session,
    campaign_id: str,
    variant: SQLColumnExpression[str | None],
    window: timedelta,
) -> dict[Key, dict[str, Any]]:
    """(step, variant) → customers who ordered within the window after the step's send, and
    what its made sends cost (`variant`: the review's, over the planned send)."""
    ps = PlannedSend
    of_steps = (
        Delivery.campaign_id == campaign_id,
        Delivery.outcome == "sent",
        PlannedSend.step.is_not(None),
    )
    made = (
        select(ps.step, variant.label("variant"), Delivery.customer_id, Delivery.sent_at)
        .join(PlannedSend, PlannedSend.id == Delivery.planned_send_id)
        .where(*of_steps)
        .subquery()
    )
    out: dict[Key, dict[str, Any]] = {}
    for step, vid, buyers in session.execute(
        select(made.c.step, made.c.variant, func.count(distinct(made.c.customer_id)))
        .join(Order, bought_after(session, made, window))
        .group_by(made.c.step, made.c.variant)
    ).all():
        out[(step, vid)] = {"converted": int(buyers)}
    for step, vid, cost in session.execute(
        select(ps.step, variant, func.sum(Delivery.cost))
        .join(PlannedSend, PlannedSend.id == Delivery.planned_send_id)
        .where(*of_steps)
        .group_by(ps.step, variant)
    ).all():
        out.setdefault((str(step), vid), {})["cost"] = Decimal(cost or 0)
    return out


def _went_to(session: Session, campaign_id: str, steps: list[Step]) -> dict[Key, int]:
    """(branch, target) → customers who reached the target at or after they reached the
    branch (a target visited before, on an earlier loop, is not counted again)."""
    pairs = [(s.id, t) for s in steps if s.branch is not None for t in s.targets()]
    if not pairs:
        return {}
    at, to = aliased(JourneyVisit), aliased(JourneyVisit)
    rows = session.execute(
        select(at.step, to.step, func.count())
        .join(
            to,
            and_(
                to.campaign_id == at.campaign_id,
                to.customer_id == at.customer_id,
                to.entered_at >= at.entered_at,
            ),
        )
        .where(at.campaign_id == campaign_id, tuple_(at.step, to.step).in_(pairs))
        .group_by(at.step, to.step)
    ).all()
    return {(branch, target): int(n) for branch, target, n in rows}


def _winners(session: Session, campaign_id: str) -> dict[str, dict[str, Any]]:
    w = JourneyWinner
    return {
        row.step: {
            "variant": row.variant,
            "metric": row.metric,
            "decided_at": row.decided_at.isoformat(),
            "rates": row.rates,
        }
        for row in session.execute(select(w).where(w.campaign_id == campaign_id)).scalars()
    }


def _blank() -> dict[str, Any]:
    return (
        {"entered": 0, "left": {}}
        | empty_line()
        | dict.fromkeys(REVIEW_COLUMNS, 0)
        | {"converted": 0, "cost": Decimal(0)}
    )


def _add(total: dict[str, Any], part: dict[str, Any]) -> None:
    """Add a line's counts (numbers, and reason → count maps) into `total`."""
    for name, value in part.items():
        if isinstance(value, dict):
            for reason, n in value.items():
                total[name][reason] = total[name].get(reason, 0) + n
        else:
            total[name] += value


def _shown(line: dict[str, Any]) -> dict[str, Any]:
    """The line as the stored report keeps it: money as text, rates per sent."""
    sent = line["sent"]
    rates = {f"{rate}_rate": line[count] / sent if sent else None for rate, count in RATES.items()}
    return line | {"cost": money(line["cost"])} | rates


def _variants(
    send_id: str, variant_ids: list[str], lines: dict[Key, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each variant's line with its click and conversion rate against the control's."""
    control = lines[(send_id, variant_ids[0])]
    out = []
    for n, vid in enumerate(variant_ids):
        line = lines[(send_id, vid)]
        versus = {
            rate: compare(control[count], control["sent"], line[count], line["sent"])
            for rate, count in RATES.items()
        }
        out.append({"id": vid} | _shown(line) | {"vs_control": versus if n else None})
    return out


def journey_review(session: Session, campaign_id: str, spec: CampaignSpec) -> dict[str, Any]:
    """{"steps": [...]} in spec order: a send step has the review's counts (entered, sent,
    suppressed by reason, failed, delivered, opened, clicked, replied, converted, cost) and its
    variants; a wait step what entered; a branch step what entered and where they went."""
    assert spec.steps is not None
    lines: dict[Key, dict[str, Any]] = {}
    ps = PlannedSend
    variant = reported_variant(campaign_id, spec, ps.step, ps.customer_id, ps.variant)
    for source in (
        status_counts(session, campaign_id, ps.step, variant),
        engagement_by_step(session, campaign_id, variant),
        _converted_and_cost(session, campaign_id, variant, spec.review.attribution_window),
        _visits(session, campaign_id, spec),
    ):
        for key, line in source.items():
            _add(lines.setdefault(key, _blank()), line)
    went_to, winners = _went_to(session, campaign_id, spec.steps), _winners(session, campaign_id)
    steps = []
    for s in spec.steps:
        total = _blank()
        for (step, _), line in lines.items():
            if step == s.id:
                _add(total, line)
        if s.send is None:
            entry: dict[str, Any] = {"id": s.id, "kind": s.kind, "entered": total["entered"]}
            if s.branch is not None:
                entry["went_to"] = {t: went_to.get((s.id, t), 0) for t in s.targets()}
            steps.append(entry)
            continue
        variant_ids = [v.id for v in s.send.variants or []]
        for vid in variant_ids:
            lines.setdefault((s.id, vid), _blank())
        rollout = lines.get((s.id, ROLLOUT)) if s.send.pick_winner is not None else None
        steps.append(
            {"id": s.id, "kind": s.kind}
            | _shown(total)
            | {
                "variants": _variants(s.id, variant_ids, lines) if variant_ids else [],
                "winner": winners.get(s.id),
                "rollout": _shown(rollout) if rollout is not None else None,
            }
        )
    return {"steps": steps}
