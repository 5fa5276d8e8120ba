"""The budget ceiling: spend is reserved before a send, so it never exceeds the approved limit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.tables import Campaign, PlannedSend


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


def spent_for_good(
    session: Session, campaign_id: str, next_cost: Decimal, excluding: Sequence[int]
) -> bool:
    """Whether the next send could never fit: not even if every other send in flight (reserved,
    outcome unknown, perhaps on a worker that died) were refunded. Call after `reserve`."""
    campaign = session.execute(select(Campaign).where(Campaign.id == campaign_id)).scalar_one()
    in_flight = session.execute(
        select(func.coalesce(func.sum(PlannedSend.unit_cost), 0)).where(
            PlannedSend.campaign_id == campaign_id,
            PlannedSend.status == "sending",
            PlannedSend.id.notin_(list(excluding)),
        )
    ).scalar_one()
    return campaign.spent - Decimal(in_flight) + next_cost > campaign.budget_limit


def refund(session: Session, campaign_id: str, amount: Decimal) -> None:
    """Give back a reservation for sends that did not go out."""
    if amount:
        session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(spent=Campaign.spent - amount)
        )
