"""The planned sends of a journey's send step: channel, A/B variant, copy and idempotency key.

The first step's sends are planned with the campaign (planning/plan.py: each customer's best
time); a later step's are planned as customers reach it (journey/moves.py), due at once — the
send-time checks still hold them to quiet hours and consent. Variants are assigned by a hash
of customer, campaign and step: the same customer always gets the same variant. With
`pick_winner`, only the test cohort gets a variant; the rest wait as `held` until the winner is
known (journey/winner.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import SQLColumnExpression, String, and_, case, cast, exists, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from audience.holdout import bucket_expr, threshold
from audience.reach import gated, granted_masks, join_reach
from compliance.config import load_config
from compliance.gates import channel_gates
from db.upsert import dialect_insert
from models.journey import Step
from models.spec import CampaignSpec
from models.tables import Customer, CustomerProfile, Money, PlannedSend, UtcDateTime
from planning.channel import channel_choice
from planning.costs import unit_cost, unit_costs

ROLLOUT = "rollout"  # the review's line for a picked winner sent to the rest
SEND_COLUMNS = (
    "campaign_id",
    "customer_id",
    "channel",
    "template",
    "scheduled_at",
    "unit_cost",
    "idempotency_key",
    "status",
    "attempts",
    "step",
    "variant",
)


def narrowed(spec: CampaignSpec, step: Step) -> CampaignSpec:
    """The spec with only the channels this send step may use (channel choice, slots, costs)."""
    assert step.send is not None
    if not step.send.channels:
        return spec
    keep = set(step.send.channels)
    return spec.model_copy(update={"channels": [p for p in spec.channels if p.channel in keep]})


def _variant_case(campaign_id: str, step: Step, customer: ColumnElement[int]) -> ColumnElement[str]:
    assert step.send is not None and step.send.variants
    variants = step.send.variants
    total = sum(v.weight for v in variants)
    drawn = bucket_expr(customer, f"{campaign_id}:{step.id}:variant")
    whens, upto = [], 0.0
    for v in variants[:-1]:
        upto += v.weight
        whens.append((drawn < threshold(100 * upto / total), v.id))
    return case(*whens, else_=variants[-1].id)


def in_test(
    campaign_id: str, step: Step, customer: SQLColumnExpression[int]
) -> ColumnElement[bool]:
    """Whether the customer is in the test cohort of a step that picks a winner."""
    assert step.send is not None and step.send.pick_winner is not None
    drawn = bucket_expr(customer, f"{campaign_id}:{step.id}:test")
    return drawn < threshold(step.send.pick_winner.test_percent)


def reported_variant(
    campaign_id: str,
    spec: CampaignSpec,
    step: SQLColumnExpression[str | None],
    customer: SQLColumnExpression[int],
    variant: SQLColumnExpression[str | None],
) -> SQLColumnExpression[str | None]:
    """The variant a review counts a send or visit under: at a step that picks a winner, the
    winner sent to those outside the test cohort is the `rollout`, apart from the variants
    the test compares (who got it later, not at random, says nothing of the variants)."""
    rollouts = [
        (and_(step == s.id, ~in_test(campaign_id, s, customer)), literal(ROLLOUT))
        for s in spec.steps or []
        if s.send is not None and s.send.pick_winner is not None
    ]
    return case(*rollouts, else_=variant) if rollouts else variant


def assignment(
    campaign_id: str, step: Step, customer: ColumnElement[int], winner: str | None
) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """(variant, status) of each customer's send at this step."""
    send = step.send
    assert send is not None
    none = cast(literal(None), String)
    if not send.variants:
        return none, literal("planned")
    if send.pick_winner is None:
        return _variant_case(campaign_id, step, customer), literal("planned")
    if winner is not None:
        return literal(winner), literal("planned")
    tested = in_test(campaign_id, step, customer)
    return (
        case((tested, _variant_case(campaign_id, step, customer)), else_=none),
        case((tested, "planned"), else_="held"),
    )


def template_expr(
    spec: CampaignSpec,
    step: Step,
    channel: SQLColumnExpression[str],
    variant: SQLColumnExpression[str],
) -> ColumnElement[str]:
    """The provider template each (channel, variant) uses; no variant: the step's own."""
    assert step.send is not None
    names = step.send.channels or [p.channel for p in spec.channels]
    whens = []
    for name in names:
        for v in step.send.variants or []:
            whens.append(
                (and_(channel == name, variant == v.id), spec.content(name, step.id, v.id).template)
            )
        whens.append((channel == name, spec.content(name, step.id).template))
    return case(*whens)


def send_key(
    campaign_id: str,
    customer: SQLColumnExpression[int],
    channel: SQLColumnExpression[str],
    step: str,
) -> ColumnElement[str]:
    """One send per customer, channel and step: a retry, replay or loop back never sends twice."""
    return (
        literal(f"{campaign_id}:")
        + cast(customer, String)
        + literal(":")
        + channel
        + literal(f":{step}")
    )


def has_step_send(
    campaign_id: str, spec: CampaignSpec, step: Step, customer: SQLColumnExpression[int]
) -> ColumnElement[bool]:
    """Whether the customer has a send of this step, on any of its channels.

    Probed by idempotency key (unique index), one per channel: the step's rows are often just
    written, and a filter on campaign and step then looks empty to the planner, whose
    nested loop over them grows with the square of the customers moving."""
    keys = [
        send_key(campaign_id, customer, literal(p.channel), step.id)
        for p in narrowed(spec, step).channels
    ]
    return exists().where(PlannedSend.idempotency_key.in_(keys))


def plan_step_sends(
    session: Session,
    campaign_id: str,
    spec: CampaignSpec,
    step: Step,
    customers: Select[tuple[int]],
    now: datetime,
    winner: str | None,
) -> None:
    """Planned sends, due now, for `customers` reaching send step `step`: on the best channel
    they may be reached on; none for those with no such channel, or who had this step's send."""
    own = narrowed(spec, step)
    table = unit_costs()
    costs: dict[str, Decimal] = {p.channel: unit_cost(p, table) for p in own.channels}
    gates = channel_gates(own, load_config())
    ids = customers.subquery()
    batch = select(ids.c[0])
    # a loop back to the step: its send was made (or closed) already, maybe on another channel
    had_it = has_step_send(campaign_id, spec, step, Customer.id)
    grants = granted_masks(list(costs), among=batch).subquery()
    reach = join_reach(
        Customer.__table__.join(ids, ids.c[0] == Customer.id).outerjoin(
            CustomerProfile, CustomerProfile.customer_id == Customer.id
        ),
        grants,
        list(costs),
    )
    reachable = {c: and_(ok, *gated(gates, c, batch)) for c, ok in reach.reachable.items()}
    chosen = (
        select(Customer.id.label("cid"), channel_choice(own, costs, reachable).label("channel"))
        .select_from(reach.joined)
        .where(Customer.erased_at.is_(None), ~had_it)
        .subquery()
    )
    variant, status = assignment(campaign_id, step, chosen.c.cid, winner)
    rows = select(
        literal(campaign_id),
        chosen.c.cid,
        chosen.c.channel,
        template_expr(spec, step, chosen.c.channel, variant),
        literal(now, UtcDateTime()),
        case(*((chosen.c.channel == c, literal(cost, Money)) for c, cost in costs.items())),
        send_key(campaign_id, chosen.c.cid, chosen.c.channel, step.id),
        status,
        literal(0),
        literal(step.id),
        variant,
    ).where(chosen.c.channel.is_not(None))
    session.execute(
        dialect_insert(session, PlannedSend.__table__)
        .from_select(list(SEND_COLUMNS), rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
