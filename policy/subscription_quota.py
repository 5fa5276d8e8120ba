"""WeChat subscribe-message quota (CN-20): never send to a (customer, account, template) that has
no subscription left.

A one-time subscription allows one message per "accept" on the prompt, so each accept adds one
and each send takes one. A long-term subscription (public-service categories only, not retail)
has no per-message limit: it is stored as LONG_TERM units so the same decrement rule holds. A
rejection (on the prompt or later in WeChat's settings) and WeChat's 43101 answer end the
quota. The send engine takes a unit in the transaction that screens a send (the decrement is
the reservation, so two workers cannot both take the last one) and gives it back when the send
did not go out. WeChat enforces its own count too: if this ledger is ever ahead, the send gets
43101 and the quota is ended here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from models.quota_tables import SubscriptionQuota as Q
from models.quota_tables import SubscriptionQuotaEvent as E

WECHAT_CHANNELS = frozenset({"wechat_oa", "wechat_mini"})
LONG_TERM = 1_000_000_000  # "unlimited": far above any number of sends, within a 32-bit int
ENDS = ("provider_43101", "reject")
MAX_TEMPLATE = 64  # = planned_sends.template
CHUNK = 500
Pair = tuple[int, str, str]  # (customer_id, channel, template)


def _check(channel: str, template: str) -> None:
    if channel not in WECHAT_CHANNELS:
        raise ValueError(
            f"channel: {channel!r} is not a WeChat subscribe channel "
            f"({', '.join(sorted(WECHAT_CHANNELS))})"
        )
    if not template or len(template) > MAX_TEMPLATE:
        raise ValueError(f"template: {template[:80]!r} must be 1-{MAX_TEMPLATE} characters")


def _chunks(pairs: Iterable[Pair]) -> Iterator[list[Pair]]:
    unique = list(dict.fromkeys((int(c), ch, t) for c, ch, t in pairs))
    for _, channel, template in unique:
        _check(channel, template)
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def _key_in(part: list[Pair]) -> ColumnElement[bool]:
    return tuple_(Q.customer_id, Q.channel, Q.template).in_(part)


def _log(
    session: Session,
    kind: str,
    change: int | None,
    rows: Iterable[Sequence[Any]],
    at: datetime,
    source_key: str | None = None,
) -> None:
    """Append history rows from (customer_id, channel, template, remaining) results."""
    values = [
        {
            "customer_id": c,
            "channel": ch,
            "template": t,
            "kind": kind,
            "change": change,
            "remaining": left,
            "at": at,
            "source_key": source_key,
        }
        for c, ch, t, left in rows
    ]
    if values:
        session.execute(insert(E), values)


def _seen(session: Session, source_key: str | None) -> bool:
    return (
        source_key is not None
        and session.execute(select(exists().where(E.source_key == source_key))).scalar_one()
    )


def _set(session: Session, pair: Pair, at: datetime, new: Any, insert_value: int) -> int:
    """Insert the row with `insert_value`, or set an existing one's remaining to `new`."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    customer_id, channel, template = pair
    stmt = dialect.insert(Q).values(
        customer_id=customer_id,
        channel=channel,
        template=template,
        remaining=insert_value,
        updated_at=at,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Q.customer_id, Q.channel, Q.template],
        set_={"remaining": new, "updated_at": at},
    )
    return int(session.execute(stmt.returning(Q.remaining)).scalar_one())


def grant(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    template: str,
    at: datetime,
    count: int = 1,
    long_term: bool = False,
    source_key: str | None = None,
) -> bool:
    """The customer accepted `count` one-time subscriptions (or a long-term one: LONG_TERM).
    With `source_key` (the push's identity) a redelivered accept changes nothing: False."""
    _check(channel, template)
    if count < 1:
        raise ValueError(f"count: {count} must be at least 1")
    if _seen(session, source_key):
        return False
    pair = (customer_id, channel, template)
    if long_term:
        left = _set(session, pair, at, LONG_TERM, LONG_TERM)
        _log(session, "long_term", None, [(*pair, left)], at, source_key)
    else:
        left = _set(session, pair, at, Q.remaining + count, count)
        _log(session, "accept", count, [(*pair, left)], at, source_key)
    return True


def exhaust(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    template: str,
    at: datetime,
    reason: str,
    source_key: str | None = None,
) -> bool:
    """End the quota: WeChat answered 43101 (`provider_43101`) or the user said no (`reject`).
    With `source_key`, a redelivered rejection changes nothing: False."""
    _check(channel, template)
    if reason not in ENDS:
        raise ValueError(f"reason: {reason!r} must be one of {', '.join(ENDS)}")
    if _seen(session, source_key):
        return False
    pair = (customer_id, channel, template)
    _set(session, pair, at, 0, 0)
    _log(session, reason, None, [(*pair, 0)], at, source_key)
    return True


def available(session: Session, pairs: Sequence[Pair]) -> set[Pair]:
    """The pairs that have at least one message left (a read; `consume` is the reservation)."""
    found: set[Pair] = set()
    for part in _chunks(pairs):
        rows = session.execute(
            select(Q.customer_id, Q.channel, Q.template).where(_key_in(part), Q.remaining > 0)
        )
        found |= {(int(c), ch, t) for c, ch, t in rows}
    return found


def consume(session: Session, pairs: Sequence[Pair], at: datetime) -> set[Pair]:
    """Take one unit from each pair that has one; returns the pairs that got it. A pair given
    twice takes one unit. Rows are locked in key order first (PostgreSQL), so workers taking
    overlapping batches queue instead of deadlocking; the decrement re-checks `remaining > 0`
    after any wait, so the last unit goes to exactly one of them."""
    taken: set[Pair] = set()
    for part in _chunks(pairs):
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                select(Q.customer_id)
                .where(_key_in(part))
                .order_by(Q.customer_id, Q.channel, Q.template)
                .with_for_update()
            )
        rows = session.execute(
            update(Q)
            .where(_key_in(part), Q.remaining > 0)
            .values(remaining=Q.remaining - 1, updated_at=at)
            .returning(Q.customer_id, Q.channel, Q.template, Q.remaining),
            execution_options={"synchronize_session": False},
        ).all()
        _log(session, "send", -1, rows, at)
        taken |= {(int(c), ch, t) for c, ch, t, _ in rows}
    return taken


def release(session: Session, pairs: Sequence[Pair], at: datetime) -> set[Pair]:
    """Give back the unit of sends that did not go out; returns the pairs given back. A quota
    ended (reject, 43101) after its last send stays ended."""
    ended, last_send = aliased(E), aliased(E)

    def same_pair(e: Any) -> ColumnElement[bool]:
        return and_(
            e.customer_id == Q.customer_id, e.channel == Q.channel, e.template == Q.template
        )

    since = (
        select(func.coalesce(func.max(last_send.id), 0))
        .where(same_pair(last_send), last_send.kind == "send")
        .scalar_subquery()
    )
    ended_since = exists().where(same_pair(ended), ended.kind.in_(ENDS), ended.id > since)
    given: set[Pair] = set()
    for part in _chunks(pairs):
        rows = session.execute(
            update(Q)
            .where(_key_in(part), ~ended_since)
            .values(remaining=Q.remaining + 1, updated_at=at)
            .returning(Q.customer_id, Q.channel, Q.template, Q.remaining),
            execution_options={"synchronize_session": False},
        ).all()
        _log(session, "release", 1, rows, at)
        given |= {(int(c), ch, t) for c, ch, t, _ in rows}
    return given
