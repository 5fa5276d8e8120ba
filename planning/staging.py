"""Temp tables the plan is computed in: send slots, per-message rates, and one row per customer.

`tmp_plan` holds every targeted member with the chosen channel, send time, cost and expected
effect, or the reason they are not planned ('no_channel', or the channel gate that kept them
off one: 'no_push_consent', 'cross_border', 'no_xb_consent'; 'quiet_hours', 'bad_timezone',
'in_progress', later 'budget'); the report and the planned sends are both read from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    null,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from audience.reach import gate_open, gated, join_reach
from compliance.config import load_config
from compliance.gates import Gate, channel_gates
from compliance.sending_window import quiet_periods
from models.spec import CampaignSpec
from models.tables import AudienceMember, Customer, CustomerProfile, UtcDateTime
from planning.channel import channel_choice
from planning.costs import to_units
from planning.rates import Rates
from planning.slots import SUBSLOTS, slot_times
from policy.quiet_hours import zone
from profiles.refresh import DEFAULT_HOUR
from profiles.sqlutil import analyze, temp_table


@contextmanager
def slot_table(session: Session, spec: CampaignSpec) -> Iterator[Table]:
    """(channel, timezone, hour, sub) → send time, for every channel of the spec, every zone
    customers use and every hour; each channel keeps its own quiet periods (legal window)."""
    cols = (
        Column("channel", String(32), primary_key=True),
        Column("timezone", String(64), primary_key=True),
        Column("hour", Integer, primary_key=True),
        Column("sub", Integer, primary_key=True),
        Column("at", UtcDateTime),
        Column("reason", String(16)),
    )
    zones = [tz for (tz,) in session.execute(select(Customer.timezone).distinct())]
    config = load_config()
    rows = []
    for channel in (p.channel for p in spec.channels):
        quiet = quiet_periods(spec, channel, config)
        for tz in zones:
            for hour in range(24):
                times = slot_times(spec.send_window, quiet, tz, hour)
                reason = None if times is not None else _why_no_slot(tz)
                rows += [
                    {
                        "channel": channel,
                        "timezone": tz,
                        "hour": hour,
                        "sub": sub,
                        "reason": reason,
                        "at": times[sub] if times is not None else None,
                    }
                    for sub in range(SUBSLOTS)
                ]
    with temp_table(session, "tmp_slots", *cols) as table:
        if rows:
            session.execute(table.insert(), rows)
        analyze(session, table)
        yield table


def _why_no_slot(tz: str) -> str:
    try:
        zone(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return "bad_timezone"
    return "quiet_hours"


@contextmanager
def rate_table(
    session: Session, rates: dict[tuple[str, str], Rates], costs: dict[str, Decimal]
) -> Iterator[Table]:
    cols = (
        Column("channel", String(32), primary_key=True),
        Column("segment", String(32), primary_key=True),
        Column("unit_cost", Numeric(14, 4)),
        Column("cost_units", BigInteger),
        Column("resp", Float),
        Column("conv", Float),
        Column("rev", Float),
    )
    with temp_table(session, "tmp_rates", *cols) as table:
        session.execute(
            table.insert(),
            [
                {
                    "channel": c,
                    "segment": s,
                    "unit_cost": costs[c],
                    "cost_units": to_units(costs[c]),
                    "resp": r.response,
                    "conv": r.response * r.conversion,
                    "rev": r.revenue,
                }
                for (c, s), r in rates.items()
            ],
        )
        analyze(session, table)
        yield table


PLAN_COLUMNS = (
    "customer_id",
    "channel",
    "segment",
    "scheduled_at",
    "unit_cost",
    "cost_units",
    "e_resp",
    "e_conv",
    "e_rev",
    "dropped",
)


@contextmanager
def plan_table(session: Session) -> Iterator[Table]:
    cols = (
        Column("customer_id", BigInteger),
        Column("channel", String(32)),
        Column("segment", String(32)),
        Column("scheduled_at", UtcDateTime),
        Column("unit_cost", Numeric(14, 4)),
        Column("cost_units", BigInteger),
        Column("e_resp", Float),
        Column("e_conv", Float),
        Column("e_rev", Float),
        Column("dropped", String(16)),
    )
    with temp_table(session, "tmp_plan", *cols) as table:
        yield table


def _gate_reason(gates: list[Gate], reach: dict[str, ColumnElement[bool]]) -> ColumnElement[str]:
    """Why a customer reachable on a channel is kept off it (the first gate that stops them);
    the plan names it when they end up with no channel at all."""
    stopped = [(and_(reach[g.channel], ~gate_open(g)), g.reason) for g in gates]
    none = cast(null(), String)
    return case(*stopped, else_=none) if stopped else none


def fill_plan(
    session: Session,
    campaign_id: str,
    spec: CampaignSpec,
    costs: dict[str, Decimal],
    tables: dict[str, Table],
) -> None:
    """One INSERT … SELECT: every targeted member with channel, time, cost and expectation."""
    am, cp = AudienceMember, CustomerProfile
    slots, rates, plan = tables["slots"], tables["rates"], tables["plan"]
    base = am.__table__.join(Customer, Customer.id == am.customer_id).outerjoin(
        cp, cp.customer_id == am.customer_id
    )
    reach = join_reach(base, tables["grants"], list(costs))
    gates = channel_gates(spec, load_config())
    reachable = {c: and_(ok, *gated(gates, c)) for c, ok in reach.reachable.items()}
    member = (
        select(
            am.customer_id.label("cid"),
            channel_choice(spec, costs, reachable).label("channel"),
            _gate_reason(gates, reach.reachable).label("gated"),
            func.coalesce(cp.segment, "none").label("segment"),
            Customer.timezone.label("tz"),
            func.coalesce(cp.best_hour, DEFAULT_HOUR).label("hour"),
        )
        .select_from(reach.joined)
        .where(
            am.campaign_id == campaign_id,
            am.holdout.is_(False),
            am.excluded_reason.is_(None),
            Customer.erased_at.is_(None),
        )
        .subquery()
    )
    joined = member.outerjoin(
        slots,
        and_(
            slots.c.channel == member.c.channel,
            slots.c.timezone == member.c.tz,
            slots.c.hour == member.c.hour,
            slots.c.sub == member.c.cid % SUBSLOTS,
        ),
    ).outerjoin(
        rates, and_(rates.c.channel == member.c.channel, rates.c.segment == member.c.segment)
    )
    dropped = case(
        (member.c.channel.is_(None), func.coalesce(member.c.gated, "no_channel")),
        (slots.c.at.is_(None), func.coalesce(slots.c.reason, "quiet_hours")),
        else_=None,
    )
    session.execute(
        plan.insert().from_select(
            list(PLAN_COLUMNS),
            select(
                member.c.cid,
                member.c.channel,
                member.c.segment,
                slots.c.at,
                rates.c.unit_cost,
                func.coalesce(rates.c.cost_units, 0),
                func.coalesce(rates.c.resp, 0.0),
                func.coalesce(rates.c.conv, 0.0),
                func.coalesce(rates.c.rev, 0.0),
                dropped,
            ).select_from(joined),
        )
    )
    analyze(session, plan)
