"""Whether a customer's phone number is on the outbound call whitelist (CN-11): marketing calls
go only to whitelisted numbers, so research, planning and the send-time screen all require it
(`allowed`), beside consent and suppression."""

from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.sql import ColumnElement

from models.compliance_tables import CallWhitelistEntry
from models.tables import Customer

CALL_CHANNEL = "outbound_call"


def whitelisted() -> ColumnElement[bool]:
    """SQL predicate on `customers`: their phone number is on the call whitelist."""
    return (
        select(CallWhitelistEntry.id)
        .where(CallWhitelistEntry.phone_index == Customer.phone_index)
        .correlate(Customer)
        .exists()
    )


def allowed(channel: str) -> ColumnElement[bool]:
    """SQL predicate on `customers`: the channel's own allow-list admits them (only calls have
    one, the whitelist; every other channel: true)."""
    return whitelisted() if channel == CALL_CHANNEL else true()
