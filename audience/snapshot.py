"""The research activity's work: the campaign's audience snapshot, holdout and counts
(docs/lifecycle.md#research).

The snapshot is replaced as a whole on every run (delete + INSERT … SELECT in one transaction),
so a retried activity leaves exactly the same rows. Members that can be reached on none of the
spec's channels keep their row with `excluded_reason`: 'no_consent' (no channel with consent and
without suppression) or 'no_address' (consent, but no address for any such channel). Holdout
members get a reason too, so the review can compare like with like; the counts of excluded
members are over the non-holdout side, the side that would have been contacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, case, delete, func, literal, or_, select
from sqlalchemy.orm import Session

from audience.compile import compile_filter
from audience.holdout import holdout_expr
from audience.reach import granted_table, join_reach
from db.campaigns import lock_campaign
from models.contracts import ResearchResult
from models.spec import CampaignSpec
from models.tables import AudienceMember, Customer, CustomerProfile
from profiles.freshness import ensure_fresh
from profiles.sqlutil import analyze, tune_for_bulk


def take_snapshot(
    session: Session, campaign_id: str, spec: CampaignSpec, as_of: datetime
) -> ResearchResult:
    """Refresh profiles if stale, store the audience with its holdout, and count it."""
    ensure_fresh(session, as_of)
    tune_for_bulk(session)
    lock_campaign(session, campaign_id)
    channels = [p.channel for p in spec.channels]
    am = AudienceMember
    session.execute(delete(am).where(am.campaign_id == campaign_id))
    with granted_table(session, channels) as grants:
        base = Customer.__table__.outerjoin(
            CustomerProfile, CustomerProfile.customer_id == Customer.id
        )
        reach = join_reach(base, grants, channels)
        reason = case(
            (or_(*reach.reachable.values()), None),
            (or_(*reach.contactable.values()), "no_address"),
            else_="no_consent",
        )
        rows = (
            select(
                literal(campaign_id),
                Customer.id,
                holdout_expr(Customer.id, campaign_id, spec.holdout_percent),
                CustomerProfile.segment,
                reason,
            )
            .select_from(reach.joined)
            .where(Customer.erased_at.is_(None), compile_filter(spec.audience, as_of))
        )
        session.execute(
            am.__table__.insert().from_select(
                ["campaign_id", "customer_id", "holdout", "segment", "excluded_reason"], rows
            )
        )
        analyze(session, am.__table__)
        return count_snapshot(session, campaign_id, channels, grants)


def count_snapshot(
    session: Session, campaign_id: str, channels: Sequence[str], grants: Table
) -> ResearchResult:
    am = AudienceMember
    groups = session.execute(
        select(am.holdout, am.excluded_reason, func.count())
        .where(am.campaign_id == campaign_id)
        .group_by(am.holdout, am.excluded_reason)
    ).all()
    audience = sum(n for _, _, n in groups)
    holdout = sum(n for held, _, n in groups if held)
    excluded = {reason: n for held, reason, n in groups if reason is not None and not held}
    targeted = sum(n for held, reason, n in groups if reason is None and not held)
    joined = join_reach(
        am.__table__.join(Customer, Customer.id == am.customer_id), grants, channels
    )
    per_channel = [
        func.coalesce(func.sum(case((joined.reachable[c], 1), else_=0)), 0) for c in channels
    ]
    reach = session.execute(
        select(*per_channel)
        .select_from(joined.joined)
        .where(am.campaign_id == campaign_id, am.holdout.is_(False), am.excluded_reason.is_(None))
    ).one()
    return ResearchResult(
        audience=audience,
        holdout=holdout,
        targeted=targeted,
        reachable_by_channel=dict(zip(channels, map(int, reach), strict=True)),
        excluded=excluded,
    )
