"""An A/B test's winner: once the test cohort has had `after` since the step was first reached,
the variant best on the metric (per message sent) goes to everyone held back for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, distinct, func, literal, select, update
from sqlalchemy.orm import Session

from db.intervals import not_later_than
from engagement.events import EventType as Received
from journey.moves import Journey
from models.engagement_tables import MessageEvent
from models.journey import Step
from models.journey_tables import JourneyVisit as JV
from models.journey_tables import JourneyWinner
from models.tables import Delivery, Order
from models.tables import PlannedSend as PS
from planning.step_sends import template_expr

EVENT_OF = {"click": Received.CLICKED, "reply": Received.REPLIED}


def decide_winners(session: Session, j: Journey) -> datetime | None:
    """Decide every test that is due (filling `j.winners`); returns when the next one is due."""
    known = dict(
        session.execute(
            select(JourneyWinner.step, JourneyWinner.variant).where(
                JourneyWinner.campaign_id == j.campaign_id
            )
        ).all()
    )
    j.winners.update(known)
    next_due: datetime | None = None
    for step in j.spec.steps or []:
        test = step.send.pick_winner if step.send is not None else None
        if test is None or step.id in known:
            continue
        first = session.execute(
            select(func.min(JV.entered_at)).where(
                JV.campaign_id == j.campaign_id, JV.step == step.id
            )
        ).scalar_one()
        if first is None:
            continue
        if j.now < first + test.after:
            due = first + test.after
            next_due = due if next_due is None else min(next_due, due)
            continue
        rates = variant_rates(session, j, step)
        order = [v.id for v in step.send.variants or []] if step.send else []
        best = max(order, key=lambda v: (rates[v]["rate"], -order.index(v)))
        session.add(
            JourneyWinner(
                campaign_id=j.campaign_id,
                step=step.id,
                variant=best,
                metric=test.metric,
                decided_at=j.now,
                rates=rates,
            )
        )
        held = and_(PS.campaign_id == j.campaign_id, PS.step == step.id, PS.status == "held")
        session.execute(  # the held back carry the winner (the review lines them up as its rollout)
            update(JV)
            .where(
                JV.campaign_id == j.campaign_id,
                JV.step == step.id,
                JV.customer_id.in_(select(PS.customer_id).where(held)),
            )
            .values(variant=best),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            update(PS)
            .where(held)
            .values(
                status="planned",
                variant=best,
                template=template_expr(j.spec, step, PS.channel, literal(best)),
            ),
            execution_options={"synchronize_session": False},
        )
        j.winners[step.id] = best
    return next_due


def variant_rates(session: Session, j: Journey, step: Step) -> dict[str, dict[str, float]]:
    """variant → sent, successes and rate on the test's metric, over the test cohort's sends."""
    assert step.send is not None and step.send.pick_winner is not None
    test = step.send.pick_winner
    own = and_(
        PS.campaign_id == j.campaign_id,
        PS.step == step.id,
        PS.status == "sent",
        PS.variant.is_not(None),
    )
    sent = dict(
        session.execute(select(PS.variant, func.count()).where(own).group_by(PS.variant)).all()
    )
    if test.metric == "conversion":
        hit = (
            select(PS.variant, func.count(distinct(PS.id)))
            .join(Delivery, and_(Delivery.planned_send_id == PS.id, Delivery.outcome == "sent"))
            .join(
                Order,
                and_(
                    Order.customer_id == PS.customer_id,
                    Order.ordered_at >= Delivery.sent_at,
                    not_later_than(
                        j.dialect,
                        Order.ordered_at,
                        Delivery.sent_at,
                        j.spec.review.attribution_window,
                    ),
                ),
            )
        )
    else:
        hit = select(PS.variant, func.count(distinct(PS.id))).join(
            MessageEvent,
            and_(
                MessageEvent.planned_send_id == PS.id,
                MessageEvent.event_type == EVENT_OF[test.metric].value,
            ),
        )
    hits = dict(session.execute(hit.where(own).group_by(PS.variant)).all())
    out: dict[str, dict[str, float]] = {}
    for v in step.send.variants or []:
        n, k = int(sent.get(v.id, 0)), int(hits.get(v.id, 0))
        out[v.id] = {"sent": n, "successes": k, "rate": k / n if n else 0.0}
    return out
