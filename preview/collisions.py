"""Frequency-cap collisions with other running campaigns, foreseen before a campaign starts.

The caps are decided at send time (`policy.frequency_cap`). To foresee them, every open send of
the other running campaigns is booked in the contact ledger at its planned time, as if it went
out as planned, then this campaign's planned marketing sends ask for their slots in time order
with the send engine's own `reserve_contacts`. Only for use inside a transaction that is rolled
back (`preview.dry_run`): the bookings are not real.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from models.cap_tables import ContactLedger
from models.spec import CampaignSpec
from models.tables import Campaign, Customer, PlannedSend
from policy.frequency_cap import OPEN, CapRules, Wanted, reserve_contacts

CHUNK = 5_000


def _book_others(session: Session, campaign_id: str) -> None:
    """Ledger rows for the open marketing sends of every other campaign not yet booked."""
    ps = PlannedSend
    others = session.execute(
        select(Campaign.id, Campaign.spec).where(
            Campaign.id != campaign_id,
            select(ps.id).where(ps.campaign_id == Campaign.id, ps.status.in_(OPEN)).exists(),
        )
    ).all()
    for other, raw in others:
        marketing = [p.channel for p in CampaignSpec.model_validate(raw).channels if p.marketing]
        booked = select(ContactLedger.id).where(ContactLedger.planned_send_id == ps.id).exists()
        session.execute(
            ContactLedger.__table__.insert().from_select(
                ["customer_id", "channel", "campaign_id", "template", "planned_send_id", "at"],
                select(
                    ps.customer_id, ps.channel, literal(other), ps.template, ps.id, ps.scheduled_at
                ).where(
                    ps.campaign_id == other, ps.status.in_(OPEN), ps.channel.in_(marketing), ~booked
                ),
            )
        )


def cap_collisions(
    session: Session, campaign_id: str, spec: CampaignSpec, caps: CapRules
) -> dict[str, int]:
    """Planned sends of `campaign_id` the caps would refuse, by reason (frequency_cap:day …)."""
    _book_others(session, campaign_id)
    marketing = [p.channel for p in spec.channels if p.marketing]
    ps = PlannedSend
    rows = session.execute(
        select(ps.id, ps.customer_id, ps.channel, ps.template, ps.scheduled_at, Customer.timezone)
        .join(Customer, Customer.id == ps.customer_id)
        .where(ps.campaign_id == campaign_id, ps.status == "planned", ps.channel.in_(marketing))
        .order_by(ps.scheduled_at, ps.id)
    ).all()
    refused: Counter[str] = Counter()
    for at, group in groupby(rows, key=lambda r: r.scheduled_at):
        wanted = [Wanted(r.id, r.customer_id, r.channel, r.template, r.timezone) for r in group]
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            refused.update(
                reserve_contacts(session, campaign_id, spec.priority, chunk, at, caps).values()
            )
    return dict(refused)
