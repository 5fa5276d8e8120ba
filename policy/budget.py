"""The budget ceiling: spend is reserved before a send, so it never exceeds the approved limit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.tables import Campaign


def reserve(session: Session, campaign_id: str, costs: Sequence[Decimal]) -> int:
    """Reserve spend for the longest prefix of `costs` that fits; returns how many fit.

    The campaign row is locked for the reservation, so concurrent batches of one campaign
    (on any number of workers) can never together pass the limit.
    """
    campaign = session.execute(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    ).scalar_one()
    room = campaign.budget_limit - campaign.spent
    total, fitted = Decimal(0), 0
    for cost in costs:
        if total + cost > room:
            break
        total += cost
        fitted += 1
    campaign.spent = campaign.spent + total
    return fitted


def refund(session: Session, campaign_id: str, amount: Decimal) -> None:
    """Give back a reservation for sends that did not go out."""
    if amount:
        session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(spent=Campaign.spent - amount)
        )
