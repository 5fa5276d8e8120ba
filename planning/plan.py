"""The planning activity's work: planned sends for every targeted member, and the budget report.

Idempotent: the campaign's still-'planned' sends are replaced as a whole, members whose sends
have already moved on (sending, sent, failed …) are left alone ('in_progress'), and the same
inputs give the same rows, keys and times. The report is stored in campaign_reports (kind
'plan') for `starter.py plan ID`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import String, Table, case, cast, delete, exists, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from audience.reach import granted_table
from db.campaigns import lock_campaign
from models.contracts import PlanResult
from models.journey import Step
from models.spec import CampaignSpec
from models.tables import PlannedSend
from planning.budget import channel_lines, drop_counts, fit_budget, send_span
from planning.costs import to_units, unit_cost, unit_costs
from planning.journey_reach import step_estimates
from planning.rates import history_rates
from planning.report import build_report, store_report
from planning.staging import fill_plan, plan_table, rate_table, slot_table
from planning.step_sends import SEND_COLUMNS, assignment, narrowed, send_key, template_expr
from profiles.sqlutil import tune_for_bulk


def make_plan(
    session: Session, campaign_id: str, spec: CampaignSpec, as_of: datetime
) -> PlanResult:
    """Channel, send time and cost per targeted member; planned sends and the budget report."""
    tune_for_bulk(session)
    lock_campaign(session, campaign_id)
    entry = spec.steps[0] if spec.steps else None
    full, spec = spec, narrowed(spec, entry) if entry is not None else spec
    table = unit_costs()
    costs: dict[str, Decimal] = {p.channel: unit_cost(p, table) for p in spec.channels}
    rates = history_rates(session, as_of, list(costs))
    with (
        slot_table(session, spec) as slots,
        rate_table(session, rates, costs) as rate_rows,
        granted_table(session, list(costs)) as grants,
        plan_table(session) as plan,
    ):
        fill_plan(
            session,
            campaign_id,
            spec,
            costs,
            {"slots": slots, "rates": rate_rows, "grants": grants, "plan": plan},
        )
        _mark_in_progress(session, campaign_id, plan)
        fit = fit_budget(session, plan, to_units(spec.budget.limit))
        _write_sends(session, campaign_id, full, plan, entry)
        lines = channel_lines(session, plan, fit)
        dropped = drop_counts(session, plan)
        first, last = send_span(session, plan)
    every: dict[str, Decimal] = {p.channel: unit_cost(p, table) for p in full.channels}
    steps = step_estimates(full, sum(x["planned"] for x in lines), every)
    report = build_report(
        campaign_id, spec, as_of, lines, dropped, fit, rates, (first, last), steps
    )
    store_report(session, campaign_id, report, as_of)
    totals = report["totals"]
    return PlanResult(
        planned=totals["planned"],
        by_channel={x["channel"]: x["planned"] for x in lines},
        cost=Decimal(totals["cost"]),
        expected_revenue=Decimal(str(totals["expected_revenue"])),
        fits_budget=fit.fits,
        dropped=sum(dropped.values()),
        first_send_at=first,
        last_send_at=last,
    )


def _mark_in_progress(session: Session, campaign_id: str, plan: Table) -> None:
    ps = PlannedSend
    moved_on = exists().where(
        ps.campaign_id == campaign_id,
        ps.customer_id == plan.c.customer_id,
        ps.status.notin_(("planned", "held")),
    )
    session.execute(
        update(plan).where(plan.c.dropped.is_(None), moved_on).values(dropped="in_progress")
    )


def _write_sends(
    session: Session, campaign_id: str, spec: CampaignSpec, plan: Table, first: Step | None
) -> None:
    """The planned sends: one per planned member; a journey's are its first step's (variant
    drawn, A/B rest held for the winner), keyed by that step."""
    ps, c = PlannedSend, plan.c
    session.execute(
        delete(ps).where(ps.campaign_id == campaign_id, ps.status.in_(("planned", "held")))
    )
    none = cast(literal(None), String)
    template: ColumnElement[str]
    variant: ColumnElement[str]
    status: ColumnElement[str]
    step: ColumnElement[str]
    if first is None:
        template = case(*((c.channel == p.channel, p.template) for p in spec.channels))
        key = send_key(campaign_id, c.customer_id, c.channel, "1")
        variant, status, step = none, literal("planned"), none
    else:
        variant, status = assignment(campaign_id, first, c.customer_id, None)
        template = template_expr(spec, first, c.channel, variant)
        key = send_key(campaign_id, c.customer_id, c.channel, first.id)
        step = literal(first.id)
    session.execute(
        ps.__table__.insert().from_select(
            list(SEND_COLUMNS),
            select(
                literal(campaign_id),
                c.customer_id,
                c.channel,
                template,
                c.scheduled_at,
                c.unit_cost,
                key,
                status,
                literal(0),
                step,
                variant,
            ).where(c.dropped.is_(None)),
        )
    )
