"""Refresh `customer_profiles` for every customer in a few set-based statements.

RFM as of D over a window of W days (None: all history): orders with D − W days < ordered_at ≤ D
count; later orders are ignored. R = whole days from the last such order to D, F = their number,
M = the sum of their amounts. Customers without such orders get R and all scores NULL.

Scores 1–5 by quintile: NTILE(5) over the customers that have orders, ordered worst to best
(R by days descending, F and M ascending, customer id breaking ties). Ties: every customer with
the same value gets the same score, the lowest quintile any of them reached (a tie group never
straddles a score boundary): that is the bucket of the group's RANK(), so one sort per score. Segments and lifecycle: see profiles/thresholds.py.

Best hour: the customer's own recency-weighted local hour (profiles/stats.py) when they have at
least MIN_EVENTS events in the last year; otherwise the most common own best hour among their
segment; otherwise DEFAULT_HOUR.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Insert, and_, case, func, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from models.tables import Customer, CustomerProfile, UtcDateTime
from profiles.sqlutil import analyze, epoch, epoch_seconds, insert_or_update, tune_for_bulk
from profiles.tags import COLUMNS as TAG_COLUMNS
from profiles.tags import data_tags
from profiles.thresholds import (
    DEFAULT_LIFECYCLE,
    DEFAULT_SEGMENTS,
    LifecycleThresholds,
    SegmentThresholds,
)
from profiles.worktables import Stats, customer_stats

MIN_EVENTS = 3
DEFAULT_HOUR = 10


def refresh_profiles(session: Session, as_of: datetime, window_days: int | None = None,
                     thresholds: SegmentThresholds | None = None,
                     lifecycle: LifecycleThresholds | None = None) -> int:
    """Recompute every customer's profile and data tags as of `as_of`; returns rows written.

    Profiles are upserted (every customer has exactly one row; customers are never deleted,
    erasure keeps the row), so a repeated refresh rewrites rows in place.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if window_days is not None and window_days <= 0:
        raise ValueError(f"window_days must be positive, got {window_days}")
    seg, life = thresholds or DEFAULT_SEGMENTS, lifecycle or DEFAULT_LIFECYCLE
    tune_for_bulk(session)
    with customer_stats(session, as_of, window_days) as stats:
        written = session.execute(_upsert(session, as_of, stats, seg, life)).rowcount
        analyze(session, CustomerProfile.__table__)
        _fill_segment_hours(session)
    session.expire_all()  # objects loaded before now hold old values: reload them on access
    return int(written)


def _upsert(session: Session, as_of: datetime, stats: Stats, seg: SegmentThresholds,
            life: LifecycleThresholds) -> Insert:
    d = literal(epoch(as_of))
    orders, hours, pref = stats.orders, stats.hours, stats.channels
    reg_days = (d - epoch_seconds(session, Customer.registered_at)) // 86400
    base = (
        select(
            Customer.id.label("cid"),
            case((orders.c.customer_id.is_(None), 0), else_=1).label("grp"),
            ((d - orders.c.last_epoch) // 86400).label("r"),
            func.coalesce(orders.c.frequency, 0).label("f"),
            func.coalesce(orders.c.monetary, 0).label("m"),
            reg_days.label("reg_days"),
            case((hours.c.events >= MIN_EVENTS, hours.c.best_hour)).label("hour"),
            pref.c.channel.label("channel"),
            Customer.birth_year.label("birth_year"),
            orders.c.top_category.label("top_category"),
        )
        .select_from(Customer)
        .outerjoin(orders, orders.c.customer_id == Customer.id)
        .outerjoin(hours, hours.c.customer_id == Customer.id)
        .outerjoin(pref, pref.c.customer_id == Customer.id)
        .subquery()
    )
    n = func.count().over(partition_by=base.c.grp)
    scored = select(
        base,
        _quintile(func.rank().over(partition_by=base.c.grp, order_by=base.c.r.desc()), n)
        .label("rs"),
        _quintile(func.rank().over(partition_by=base.c.grp, order_by=base.c.f), n).label("fs"),
        _quintile(func.rank().over(partition_by=base.c.grp, order_by=base.c.m), n).label("ms"),
    ).subquery()
    s = scored.c
    segment = case(
        (s.grp == 0, "none"),
        (and_(s.r < seg.loyal_max_recency, s.f >= seg.loyal_min_frequency,
              s.m >= float(seg.loyal_min_monetary)), "loyal"),
        (and_(s.r < seg.potential_max_recency,
              s.f.between(seg.potential_min_frequency, seg.potential_max_frequency)), "potential"),
        (and_(s.r > seg.dormant_min_recency, s.f == seg.dormant_frequency,
              s.m < float(seg.dormant_max_monetary)), "dormant"),
        else_="regular",
    )
    idle = func.coalesce(s.r, s.reg_days)
    stage = case(
        (and_(s.reg_days.is_not(None), s.reg_days < life.new_days,
              s.f <= life.new_max_orders), "new"),
        (idle.is_(None), "churned"),
        (idle <= life.active_days, "active"),
        (idle <= life.at_risk_days, "at_risk"),
        (idle <= life.dormant_days, "dormant"),
        else_="churned",
    )
    has = s.grp == 1
    m_score = case((has, s.ms))
    rows = select(
        s.cid, literal(as_of, UtcDateTime()), s.r, s.f, s.m, case((has, s.rs)),
        case((has, s.fs)), m_score, segment, stage, s.hour, s.channel,
        *data_tags(as_of, s.birth_year, m_score, s.top_category, s.channel, s.hour),
    ).where(s.cid.is_not(None))
    names = ["customer_id", "as_of", "recency_days", "frequency", "monetary", "r_score",
             "f_score", "m_score", "segment", "lifecycle", "best_hour", "preferred_channel",
             *TAG_COLUMNS]
    return insert_or_update(session, CustomerProfile.__table__, names, rows, ["customer_id"])


def _quintile(position: ColumnElement[int], n: ColumnElement[int]) -> ColumnElement[int]:
    """NTILE(5)'s bucket for 1-based `position` among `n` rows: the first n % 5 buckets hold one
    row more than the others. With position = RANK(), a tie group gets the bucket of its first
    row, the lowest any of its members would reach."""
    q, rem = n // 5, n % 5
    big = rem * (q + 1)
    return case(
        (position <= big, (position - 1) // (q + 1) + 1),
        else_=rem + (position - 1 - big) // func.nullif(q, 0) + 1,
    )


def _fill_segment_hours(session: Session) -> None:
    """Customers with too little history get their segment's most common own best hour."""
    cp = CustomerProfile
    counts = session.execute(
        select(cp.segment, cp.best_hour, func.count())
        .where(cp.best_hour.is_not(None)).group_by(cp.segment, cp.best_hour)
    ).all()
    overall: Counter[int] = Counter()
    per_segment: dict[str, Counter[int]] = {}
    for segment, hour, n in counts:
        per_segment.setdefault(segment, Counter())[hour] += n
        overall[hour] += n
    fallback = _mode(overall) if overall else DEFAULT_HOUR
    hours = {segment: _mode(c) for segment, c in per_segment.items()}
    by_segment = case(*((cp.segment == s, h) for s, h in hours.items()), else_=fallback) \
        if hours else literal(fallback)
    session.execute(update(cp).where(cp.best_hour.is_(None)).values(best_hour=by_segment))


def _mode(counter: Counter[int]) -> int:
    """Most common hour; the earliest hour wins a tie."""
    return min(counter, key=lambda h: (-counter[h], h))
