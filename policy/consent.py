"""Current consent, derived from the append-only ledger: the latest event per key wins."""

from __future__ import annotations

from sqlalchemy import Select, SQLColumnExpression, and_, func, select
from sqlalchemy.sql import ColumnElement

from models.tables import ConsentEvent, Customer, Suppression
from policy.call_whitelist import allowed

MARKETING = "marketing"
PROFILING = "profiling"

# Channels whose delivery address lives on the customer row (None: no addressable column needed).
ADDRESS_INDEX = {
    "sms": Customer.phone_index,
    "outbound_call": Customer.phone_index,
    "email": Customer.email_index,
}


def latest_consent_ids() -> Select[int]:
    """Ids of the newest ledger event for each (customer, channel, purpose)."""
    return select(func.max(ConsentEvent.id)).group_by(
        ConsentEvent.customer_id, ConsentEvent.channel, ConsentEvent.purpose
    )


def has_consent(
    customer_id: SQLColumnExpression[int], channel: str, purpose: str = MARKETING
) -> ColumnElement[bool]:
    """SQL predicate: the customer's newest ledger event for channel+purpose is a grant."""
    newest = (
        select(ConsentEvent.granted)
        .where(
            ConsentEvent.customer_id == customer_id,
            ConsentEvent.channel == channel,
            ConsentEvent.purpose == purpose,
        )
        .order_by(ConsentEvent.id.desc())
        .limit(1)
        .correlate_except(ConsentEvent)
        .scalar_subquery()
    )
    return newest.is_(True)


def profiling_refused(customer_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """SQL predicate: the customer's newest profiling decision (any channel) is a refusal, so
    no profile-driven marketing may reach them (PIPL Art. 24)."""
    newest = (
        select(ConsentEvent.granted)
        .where(ConsentEvent.customer_id == customer_id, ConsentEvent.purpose == PROFILING)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
        .correlate_except(ConsentEvent)
        .scalar_subquery()
    )
    return newest.is_(False)


def not_suppressed(channel: str) -> ColumnElement[bool]:
    """SQL predicate on `customers`: the address for this channel is not on the suppression list."""
    column = ADDRESS_INDEX.get(channel)
    if column is None:
        return Customer.erased_at.is_(None)
    return and_(
        Customer.erased_at.is_(None),
        ~select(Suppression.id)
        .where(Suppression.address_index == column, Suppression.channel.in_([channel, "*"]))
        .exists(),
    )


def contactable(channel: str, purpose: str = MARKETING) -> ColumnElement[bool]:
    """Consent granted, not suppressed and (calls) whitelisted: the single test research,
    planning and sending share."""
    return and_(
        has_consent(Customer.id, channel, purpose), not_suppressed(channel), allowed(channel)
    )
