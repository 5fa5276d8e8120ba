"""The compliance-relevant facts of a stored plan, counted in the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audience.reach import gate_open
from compliance.config import load_config
from compliance.gates import channel_gates
from compliance.plan_stats import PlanStats
from compliance.sending_window import quiet_periods
from governance.pia import assessment_status
from models.spec import CampaignSpec
from models.tables import Customer
from models.tables import PlannedSend as PS
from policy.call_whitelist import CALL_CHANNEL, whitelisted
from policy.consent import has_consent, not_suppressed
from policy.quiet_hours import in_quiet_hours

JURISDICTION = {
    "Asia/Shanghai": "CN",
    "Asia/Chongqing": "CN",
    "Asia/Urumqi": "CN",
    "Asia/Harbin": "CN",
    "Asia/Hong_Kong": "HK",
    "Asia/Macau": "MO",
    "Asia/Taipei": "TW",
    "Asia/Singapore": "SG",
    "Europe/London": "GB",
}


def jurisdiction(tz: str) -> str:
    """A customer's jurisdiction guessed from the time zone, when the country is unknown."""
    if tz in JURISDICTION:
        return JURISDICTION[tz]
    return "EU" if tz.startswith("Europe/") else ("US" if tz.startswith("America/") else "CN")


def plan_stats(
    session: Session, campaign_id: str, spec: CampaignSpec, min_age: int, at: datetime
) -> PlanStats:
    planned = (PS.campaign_id == campaign_id, PS.status == "planned")
    by_channel = dict(
        session.execute(select(PS.channel, func.count()).where(*planned).group_by(PS.channel)).all()
    )
    without, suppressed, not_listed = {}, {}, 0
    for channel in by_channel:
        base = select(func.count()).select_from(PS).join(Customer, Customer.id == PS.customer_id)
        base = base.where(*planned, PS.channel == channel)
        without[channel] = session.execute(
            base.where(~has_consent(Customer.id, channel))
        ).scalar_one()
        suppressed[channel] = session.execute(base.where(~not_suppressed(channel))).scalar_one()
        if channel == CALL_CHANNEL:
            not_listed = session.execute(base.where(~whitelisted())).scalar_one()
    past_gates: dict[str, int] = {}
    for gate in channel_gates(spec, load_config()):
        if gate.channel in by_channel:
            n = session.execute(
                select(func.count())
                .select_from(PS)
                .join(Customer, Customer.id == PS.customer_id)
                .where(*planned, PS.channel == gate.channel, ~gate_open(gate))
            ).scalar_one()
            if n:
                past_gates[gate.rule_id] = past_gates.get(gate.rule_id, 0) + n
    by_tz: dict[str, int] = {}
    in_quiet = minors = unknown_age = 0
    quiet = {channel: quiet_periods(spec, channel) for channel in by_channel}
    rows = session.execute(
        select(
            PS.scheduled_at, PS.channel, Customer.timezone, Customer.birth_year, Customer.country
        )
        .join(Customer, Customer.id == PS.customer_id)
        .where(*planned)
        .execution_options(yield_per=10_000)
    )
    for scheduled_at, channel, tz, birth_year, country in rows:
        code = country or jurisdiction(tz)
        by_tz[code] = by_tz.get(code, 0) + 1
        in_quiet += in_quiet_hours(scheduled_at, tz, quiet[channel])
        if birth_year is None:
            unknown_age += 1
        elif at.year - birth_year < min_age:
            minors += 1
    per_customer = (
        select(func.count().label("n")).where(*planned).group_by(PS.customer_id).subquery()
    )
    return PlanStats(
        planned_by_channel=by_channel,
        planned_by_jurisdiction=by_tz,
        planned_without_consent=without,
        planned_suppressed=suppressed,
        planned_past_gates=past_gates,
        planned_in_quiet_hours=in_quiet,
        calls_not_whitelisted=not_listed,
        impact_assessment=assessment_status(session, spec.pia, at),
        minors_planned=minors,
        unknown_age_planned=unknown_age,
        max_messages_per_customer=session.execute(select(func.max(per_customer.c.n))).scalar() or 0,
        planned_cost=session.execute(select(func.sum(PS.unit_cost)).where(*planned)).scalar()
        or Decimal(0),
    )
