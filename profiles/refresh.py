"""Refresh `customer_profiles` for every customer in a few set-based statements.

RFM as of D over a window of W days (None: all history): orders with D − W days < ordered_at ≤ D
count; later orders are ignored. R = whole days from the last such order to D, F = their number,
M = the sum of their amounts. Customers without such orders get R and all scores NULL.

Scores 1–5 by quintile: NTILE(5) over the customers that have orders, ordered worst to best
(R by days descending, F and M ascending, customer id breaking ties). Ties: every customer with
the same value gets the same score, the lowest quintile any of them reached (a tie group never
straddles a score boundary): the bucket of the group's RANK() (profiles/stats.py). Segments and lifecycle: see profiles/thresholds.py.

Best hour: the customer's own recency-weighted local hour (profiles/stats.py) when they have at
least MIN_EVENTS events in the last year; otherwise the most common own best hour among their
segment; otherwise DEFAULT_HOUR.

The new profiles are computed into a temp table; a row is rewritten only when a value in it
changed, and each refresh is recorded in profile_refreshes: an hourly refresh writes the few
percent of profiles that moved.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    CursorResult,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Subquery

from models.tables import Customer, CustomerProfile, ProfileRefresh
from profiles.sqlutil import analyze, epoch, epoch_seconds, temp_table, tune_for_bulk
from profiles.tags import COLUMNS as TAG_COLUMNS
from profiles.tags import data_tags
from profiles.thresholds import (
    DEFAULT_LIFECYCLE,
    DEFAULT_SEGMENTS,
    LifecycleThresholds,
    SegmentThresholds,
)
from profiles.worktables import Stats, customer_stats, lock_refresh

MIN_EVENTS = 3
DEFAULT_HOUR = 10
NAMES = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "lifecycle",
    "best_hour",
    "preferred_channel",
    *TAG_COLUMNS,
]


def refresh_profiles(
    session: Session,
    as_of: datetime,
    window_days: int | None = None,
    thresholds: SegmentThresholds | None = None,
    lifecycle: LifecycleThresholds | None = None,
) -> int:
    """Recompute every customer's profile and data tags as of `as_of`; returns how many
    profiles changed (new ones included).

    Profiles are upserted (every customer has exactly one row; customers are never deleted,
    erasure keeps the row). Refreshes take turns.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if window_days is not None and window_days <= 0:
        raise ValueError(f"window_days must be positive, got {window_days}")
    seg, life = thresholds or DEFAULT_SEGMENTS, lifecycle or DEFAULT_LIFECYCLE
    lock_refresh(session)
    tune_for_bulk(session)
    with customer_stats(session, as_of, window_days) as stats:
        inputs = _inputs(session, as_of, stats, seg)
        fallback = _segment_hours(session, inputs)
        with temp_table(session, "tmp_profiles", *_profile_columns()) as fresh:
            session.execute(
                fresh.insert().from_select(
                    [*NAMES, "is_new"], _profile_rows(as_of, inputs, fallback, life)
                )
            )
            analyze(session, fresh)
            changed = _write(session, fresh)
    analyze(session, CustomerProfile.__table__)
    profiles = session.execute(select(func.count()).select_from(CustomerProfile)).scalar_one()
    session.add(
        ProfileRefresh(
            as_of=as_of, profiles=profiles, changed=changed, refreshed_at=datetime.now(UTC)
        )
    )
    session.flush()
    session.expire_all()  # objects loaded before now hold old values: reload them on access
    return int(changed)


def _inputs(session: Session, as_of: datetime, stats: Stats, seg: SegmentThresholds) -> Subquery:
    """One row per customer: the aggregates, scores and segment a profile is made of."""
    orders, hours, pref = stats.orders, stats.hours, stats.channels
    o = orders.c
    f, m = func.coalesce(o.frequency, 0), func.coalesce(o.monetary, 0)
    return (
        select(
            Customer.id.label("cid"),
            o.customer_id.is_not(None).label("has_orders"),
            o.recency.label("r"),
            f.label("f"),
            m.label("m"),
            o.r_score.label("rs"),
            o.f_score.label("fs"),
            o.m_score.label("ms"),
            segment_of(o.customer_id.is_not(None), o.recency, f, m, seg).label("segment"),
            (
                (literal(epoch(as_of)) - epoch_seconds(session, Customer.registered_at)) // 86400
            ).label("reg_days"),
            case((hours.c.events >= MIN_EVENTS, hours.c.best_hour)).label("hour"),
            pref.c.channel.label("channel"),
            Customer.birth_year.label("birth_year"),
            o.top_category.label("top_category"),
        )
        .select_from(Customer)
        .outerjoin(orders, o.customer_id == Customer.id)
        .outerjoin(hours, hours.c.customer_id == Customer.id)
        .outerjoin(pref, pref.c.customer_id == Customer.id)
        .subquery()
    )


def segment_of(
    has_orders: ColumnElement[bool],
    r: ColumnElement[int],
    f: ColumnElement[int],
    m: ColumnElement[float],
    seg: SegmentThresholds,
) -> ColumnElement[str]:
    return case(
        (~has_orders, "none"),
        (
            and_(
                r < seg.loyal_max_recency,
                f >= seg.loyal_min_frequency,
                m >= float(seg.loyal_min_monetary),
            ),
            "loyal",
        ),
        (
            and_(
                r < seg.potential_max_recency,
                f.between(seg.potential_min_frequency, seg.potential_max_frequency),
            ),
            "potential",
        ),
        (
            and_(
                r > seg.dormant_min_recency,
                f == seg.dormant_frequency,
                m < float(seg.dormant_max_monetary),
            ),
            "dormant",
        ),
        else_="regular",
    )


def _profile_rows(
    as_of: datetime, s: Subquery, fallback: ColumnElement[int], life: LifecycleThresholds
) -> Select[Any]:
    c = s.c
    idle = func.coalesce(c.r, c.reg_days)
    stage = case(
        (
            and_(c.reg_days.is_not(None), c.reg_days < life.new_days, c.f <= life.new_max_orders),
            "new",
        ),
        (idle.is_(None), "churned"),
        (idle <= life.active_days, "active"),
        (idle <= life.at_risk_days, "at_risk"),
        (idle <= life.dormant_days, "dormant"),
        else_="churned",
    )
    stored = CustomerProfile.__table__.alias("stored")
    return select(
        c.cid,
        c.r,
        c.f,
        c.m,
        c.rs,
        c.fs,
        c.ms,
        c.segment,
        stage,
        func.coalesce(c.hour, fallback),
        c.channel,
        *data_tags(as_of, c.birth_year, c.ms, c.top_category, c.channel, c.hour),
        stored.c.customer_id.is_(None),
    ).select_from(s.outerjoin(stored, stored.c.customer_id == c.cid))


def _profile_columns() -> list[Column[Any]]:
    """NAMES, plus whether the customer has no stored profile yet (decided before any write:
    probing the table while inserting into it would read the new rows too)."""
    return [
        *(Column(n, CustomerProfile.__table__.c[n].type) for n in NAMES),
        Column("is_new", Boolean),
    ]


def _write(session: Session, fresh: Table) -> int:
    """Rewrite the profiles whose values moved, add the missing ones; returns how many.
    (An upsert would lock and check every row; a plain INSERT of new rows costs the least.)"""
    cp = CustomerProfile.__table__
    values = [n for n in NAMES if n != "customer_id"]
    updated = cast(
        CursorResult[Any],
        session.execute(
            update(cp)
            .where(
                cp.c.customer_id == fresh.c.customer_id,
                ~fresh.c.is_new,
                or_(*(cp.c[n].is_distinct_from(fresh.c[n]) for n in values)),
            )
            .values({n: fresh.c[n] for n in values})
        ),
    ).rowcount
    inserted = cast(
        CursorResult[Any],
        session.execute(
            cp.insert().from_select(
                NAMES, select(*(fresh.c[n] for n in NAMES)).where(fresh.c.is_new)
            )
        ),
    ).rowcount
    return int(updated) + int(inserted)


def _segment_hours(session: Session, s: Subquery) -> ColumnElement[int]:
    """Best hour for customers with too little history of their own: their segment's most
    common own best hour, else the base's, else DEFAULT_HOUR (an expression on `s`)."""
    counts = session.execute(
        select(s.c.segment, s.c.hour, func.count())
        .where(s.c.hour.is_not(None))
        .group_by(s.c.segment, s.c.hour)
    ).all()
    overall: Counter[int] = Counter()
    per_segment: dict[str, Counter[int]] = {}
    for segment, hour, n in counts:
        per_segment.setdefault(segment, Counter())[hour] += n
        overall[hour] += n
    fallback = _mode(overall) if overall else DEFAULT_HOUR
    hours = {segment: _mode(c) for segment, c in per_segment.items()}
    if not hours:
        return literal(fallback)
    return case(*((s.c.segment == name, h) for name, h in hours.items()), else_=fallback)


def _mode(counter: Counter[int]) -> int:
    """Most common hour; the earliest hour wins a tie."""
    return min(counter, key=lambda h: (-counter[h], h))
