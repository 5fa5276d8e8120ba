"""Per-customer aggregates of orders and activity, each one pass over its table, into work tables.

* order stats: F, M, last order (Unix seconds), top category by spend and the R, F and M scores,
  over the RFM window;
* hour stats: recency-weighted local hour of activity (orders, logins, opens, clicks);
* channel stats: the channel with the most recency-weighted opens and clicks.

Recency weight = 0.5 ** whole_months, with whole_months = age_days // 30: activity halves in
weight for every full 30 days of age. It is a bit shift, so both backends give exact, equal values.

Each aggregate is one long single-threaded statement (PostgreSQL's parallel aggregation does not
pay with a million groups). So on PostgreSQL they run at once, on connections of their own that
share the refresh's snapshot, into UNLOGGED work tables (profiles/worktables.py); on SQLite, or
inside a transaction that has written data the others could not see, one after another.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    Numeric,
    SQLColumnExpression,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeEngine

from models.tables import BehaviorEvent, Customer, Order
from profiles.sqlutil import Db, epoch, epoch_seconds, zone_offsets

ACTIVITY_EVENTS = ("login", "message_open", "message_click")
ENGAGEMENT_EVENTS = ("message_open", "message_click")
CLICK_WEIGHT = 2  # a click says more about a channel than an open
HISTORY_DAYS = 365  # activity older than this has weight < 0.5**12 and is not read at all
MAX_HALVINGS = 40
ORDER_COLUMNS = (
    ("customer_id", BigInteger),
    ("frequency", Integer),
    ("monetary", Numeric(14, 2)),
    ("last_epoch", BigInteger),
    ("top_category", String(64)),
    ("recency", Integer),
    ("r_score", Integer),
    ("f_score", Integer),
    ("m_score", Integer),
)
HOUR_COLUMNS = (("customer_id", BigInteger), ("events", Integer), ("best_hour", Integer))
CHANNEL_COLUMNS = (("customer_id", BigInteger), ("channel", String(32)))


def recency_weight(age_days: ColumnElement[int]) -> ColumnElement[float]:
    months = age_days // 30
    capped = cast(case((months > MAX_HALVINGS, MAX_HALVINGS), else_=months), Integer)
    return literal(1.0, Float()) / cast(cast(literal(1), BigInteger).op("<<")(capped), Float())


def columns(
    spec: tuple[tuple[str, TypeEngine[Any] | type[TypeEngine[Any]]], ...],
) -> list[Column[Any]]:
    return [Column(name, kind) for name, kind in spec]


def fill_order_stats(db: Db, table: Table, as_of: datetime, window_days: int | None) -> None:
    """Per customer with orders in the window: F, M, last order, top category, R (whole days)
    and the three scores (see `quintile`)."""
    conds = [Order.ordered_at <= as_of]
    if window_days is not None:
        conds.append(Order.ordered_at > as_of - timedelta(days=window_days))
    per_cat = (
        select(
            Order.customer_id.label("cid"),
            Order.category.label("cat"),
            func.count().label("n"),
            func.sum(Order.amount).label("amt"),
            func.max(Order.ordered_at).label("last_at"),
        )
        .where(*conds)
        .group_by(Order.customer_id, Order.category)
        .subquery()
    )
    by_customer = select(
        per_cat.c.cid,
        per_cat.c.cat,
        func.sum(per_cat.c.n).over(partition_by=per_cat.c.cid).label("f"),
        func.sum(per_cat.c.amt).over(partition_by=per_cat.c.cid).label("m"),
        func.max(per_cat.c.last_at).over(partition_by=per_cat.c.cid).label("last_at"),
        func.row_number()
        .over(
            partition_by=per_cat.c.cid,
            order_by=(per_cat.c.cat.is_(None), per_cat.c.amt.desc(), per_cat.c.cat),
        )
        .label("rn"),
    ).subquery()
    last = epoch_seconds(db, by_customer.c.last_at)
    customers = (
        select(
            by_customer.c.cid,
            by_customer.c.f,
            by_customer.c.m,
            last.label("last_epoch"),
            by_customer.c.cat,
            ((literal(epoch(as_of)) - last) // 86400).label("r"),
        )
        .where(by_customer.c.rn == 1)
        .subquery()
    )
    c, n = customers.c, func.count().over()
    db.execute(
        table.insert().from_select(
            [name for name, _ in ORDER_COLUMNS],
            select(
                c.cid,
                c.f,
                c.m,
                c.last_epoch,
                c.cat,
                c.r,
                quintile(func.rank().over(order_by=c.r.desc()), n),
                quintile(func.rank().over(order_by=c.f), n),
                quintile(func.rank().over(order_by=c.m), n),
            ),
        )
    )


def quintile(position: ColumnElement[int], n: ColumnElement[int]) -> ColumnElement[int]:
    """NTILE(5)'s bucket for 1-based `position` among `n` rows: the first n % 5 buckets hold one
    row more than the others. With position = RANK() (worst first), a tie group gets the bucket
    of its first row: the lowest any of its members would reach under NTILE(5)."""
    q, rem = n // 5, n % 5
    big = rem * (q + 1)
    return case(
        (position <= big, (position - 1) // (q + 1) + 1),
        else_=rem + (position - 1 - big) // func.nullif(q, 0) + 1,
    )


def _weighted(db: Db, at: SQLColumnExpression[datetime], as_of: datetime) -> ColumnElement[float]:
    return recency_weight((literal(epoch(as_of)) - epoch_seconds(db, at)) // 86400)


def fill_hour_stats(db: Db, table: Table, as_of: datetime) -> None:
    """customer_id, events (count), best_hour (local hour with the largest recency weight)."""
    since = as_of - timedelta(days=HISTORY_DAYS)
    activity = union_all(
        select(Order.customer_id.label("cid"), Order.ordered_at.label("at")).where(
            Order.ordered_at <= as_of, Order.ordered_at > since
        ),
        select(BehaviorEvent.customer_id, BehaviorEvent.occurred_at).where(
            BehaviorEvent.event_type.in_(ACTIVITY_EVENTS),
            BehaviorEvent.occurred_at <= as_of,
            BehaviorEvent.occurred_at > since,
        ),
    ).subquery()
    with zone_offsets(db, as_of) as zones:
        secs = epoch_seconds(db, activity.c.at)
        local_hour = ((secs + zones.c.offset_s) % 86400) // 3600
        per_hour = (
            select(
                activity.c.cid,
                local_hour.label("hour"),
                func.count().label("n"),
                func.sum(_weighted(db, activity.c.at, as_of)).label("w"),
            )
            .select_from(
                activity.join(Customer, Customer.id == activity.c.cid).join(
                    zones, zones.c.timezone == Customer.timezone
                )
            )
            .group_by(activity.c.cid, local_hour)
            .subquery()
        )
        ranked = select(
            per_hour.c.cid,
            per_hour.c.hour,
            func.sum(per_hour.c.n).over(partition_by=per_hour.c.cid).label("events"),
            func.row_number()
            .over(partition_by=per_hour.c.cid, order_by=(per_hour.c.w.desc(), per_hour.c.hour))
            .label("rn"),
        ).subquery()
        db.execute(
            table.insert().from_select(
                [name for name, _ in HOUR_COLUMNS],
                select(ranked.c.cid, ranked.c.events, ranked.c.hour).where(ranked.c.rn == 1),
            )
        )


def fill_channel_stats(db: Db, table: Table, as_of: datetime) -> None:
    """customer_id → the channel with most recency-weighted opens and clicks (2×)."""
    ev = BehaviorEvent
    points = case((ev.event_type == "message_click", CLICK_WEIGHT), else_=1)
    per_channel = (
        select(
            ev.customer_id.label("cid"),
            ev.channel.label("channel"),
            func.sum(points * _weighted(db, ev.occurred_at, as_of)).label("w"),
        )
        .where(
            and_(
                ev.event_type.in_(ENGAGEMENT_EVENTS),
                ev.channel.is_not(None),
                ev.occurred_at <= as_of,
                ev.occurred_at > as_of - timedelta(days=HISTORY_DAYS),
            )
        )
        .group_by(ev.customer_id, ev.channel)
        .subquery()
    )
    ranked = select(
        per_channel.c.cid,
        per_channel.c.channel,
        func.row_number()
        .over(
            partition_by=per_channel.c.cid, order_by=(per_channel.c.w.desc(), per_channel.c.channel)
        )
        .label("rn"),
    ).subquery()
    db.execute(
        table.insert().from_select(
            [name for name, _ in CHANNEL_COLUMNS],
            select(ranked.c.cid, ranked.c.channel).where(ranked.c.rn == 1),
        )
    )
