"""Whether customers can be reached on a channel: consent, no suppression, the channel's
allow-list (the call whitelist) and an address.

Same meaning as policy.consent.contactable (the latest ledger event per customer, channel and
purpose decides; suppression via policy.consent.not_suppressed), in the two forms whole-base
work needs instead of two correlated lookups per customer and channel:
* `contactable(channel)`: a predicate for filters (an IN semi-join on one grouped ledger pass);
* `granted_table` + `join_reach`: current grants for the campaign's channels as one bit mask
  per customer in a temp table, outer-joined once, for CASE expressions over millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    Select,
    Table,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, FromClause

from compliance.gates import Gate
from models.tables import ConsentEvent, Customer
from policy.call_whitelist import allowed
from policy.consent import MARKETING, not_suppressed
from profiles.sqlutil import analyze, temp_table

# The customer column a channel's provider address comes from; None: consent alone suffices.
ADDRESS_COLUMN = {
    "sms": Customer.phone_enc,
    "outbound_call": Customer.phone_enc,
    "email": Customer.email_enc,
    "wechat_oa": Customer.wechat_openid,
    "wechat_mini": Customer.wechat_openid,
    "wecom": Customer.wechat_openid,
    "alipay": Customer.device_id,
    "app_push": Customer.device_id,
    "webhook": Customer.external_id,
    "sandbox": None,
}


def _latest_granted(
    channels: Sequence[str], purpose: str, among: Select[int] | None = None
) -> Select[str, int]:
    """(channel, customer_id) whose latest ledger event for channel + purpose is a grant.

    One grouped pass: max(id · 2 + granted) orders events exactly as max(id) does, and its
    lowest bit is the latest event's `granted`, so no join back to the ledger is needed.
    `among`: only these customers' events (a batch reads its own, not the whole ledger).
    """
    ce = ConsentEvent
    latest = func.max(ce.id * 2 + case((ce.granted.is_(True), 1), else_=0))
    mine = [ce.customer_id.in_(among)] if among is not None else []
    return (
        select(ce.channel, ce.customer_id)
        .where(ce.purpose == purpose, ce.channel.in_(list(channels)), *mine)
        .group_by(ce.channel, ce.customer_id)
        .having(latest % 2 == 1)
    )


def consented(
    channel: str, purpose: str = MARKETING, among: Select[int] | None = None
) -> ColumnElement[bool]:
    """Customers whose latest consent event for channel + purpose is a grant."""
    granted = _latest_granted([channel], purpose, among).subquery()
    return Customer.id.in_(select(granted.c.customer_id))


def contactable(channel: str, purpose: str = MARKETING) -> ColumnElement[bool]:
    return and_(consented(channel, purpose), not_suppressed(channel), allowed(channel))


def gate_open(gate: Gate, among: Select[int] | None = None) -> ColumnElement[bool]:
    """Customers a channel gate lets through: outside its countries (an unknown country counts
    as the default jurisdiction), or with a current grant for its purpose."""
    through = consented(gate.channel, gate.purpose, among) if gate.purpose else false()
    if gate.countries is None:
        return through
    home = func.coalesce(Customer.country, gate.default_country)
    return or_(home.not_in(sorted(gate.countries)), through)


def gated(
    gates: Sequence[Gate], channel: str, among: Select[int] | None = None
) -> list[ColumnElement[bool]]:
    """The gate predicates of one channel (none: it is not gated)."""
    return [gate_open(g, among) for g in gates if g.channel == channel]


def has_address(channel: str) -> ColumnElement[bool]:
    column = ADDRESS_COLUMN.get(channel)
    return true() if column is None else column.is_not(None)


def granted_masks(
    channels: Sequence[str], purpose: str = MARKETING, among: Select[int] | None = None
) -> Select[int, int]:
    """customer_id → mask of current grants (bit i: channels[i]), one row each (`among`: of
    those customers only)."""
    latest = _latest_granted(channels, purpose, among).subquery()
    bit = case(*((latest.c.channel == c, 1 << i) for i, c in enumerate(channels)), else_=0)
    return select(latest.c.customer_id, func.sum(bit).label("mask")).group_by(latest.c.customer_id)


@contextmanager
def granted_table(
    session: Session, channels: Sequence[str], purpose: str = MARKETING
) -> Iterator[Table]:
    """`granted_masks` of the whole base in a temp table, for joins over millions of rows."""
    with temp_table(
        session, "tmp_granted", Column("customer_id", BigInteger), Column("mask", Integer)
    ) as table:
        session.execute(
            table.insert().from_select(["customer_id", "mask"], granted_masks(channels, purpose))
        )
        analyze(session, table)
        yield table


@dataclass(frozen=True)
class ReachJoin:
    joined: FromClause
    contactable: dict[str, ColumnElement[bool]]  # granted, not suppressed, allowed
    reachable: dict[str, ColumnElement[bool]]  # … and an address to send to


def join_reach(joined: FromClause, grants: FromClause, channels: Sequence[str]) -> ReachJoin:
    """Outer-join the grants of `channels` (`granted_masks`, one hash join) onto a FROM that
    contains `customers`."""
    joined = joined.outerjoin(grants, grants.c.customer_id == Customer.id)
    mask = func.coalesce(grants.c.mask, 0)
    ok: dict[str, ColumnElement[bool]] = {}
    reach: dict[str, ColumnElement[bool]] = {}
    for i, channel in enumerate(channels):
        ok[channel] = and_(mask.op("&")(1 << i) != 0, not_suppressed(channel), allowed(channel))
        reach[channel] = and_(has_address(channel), ok[channel])
    return ReachJoin(joined, ok, reach)
