"""Compile an audience filter (models/audience.py) into one SQL predicate over `customers`.

Every value is a bound parameter: nothing from the spec ever becomes SQL text. Related tables
are reached by EXISTS correlated to `customers` only (semi-joins; the caller may join profiles
too) or IN over grouped subqueries, which PostgreSQL plans as hash joins over the whole base.

Time windows: "within N days" of D means D − N days < t ≤ D. `tag: [a, b]` matches customers
with any of the tags, manual or derived from data (use `all` for every one). `event` / `order` need at least `at_least`
matching rows in the window; `order.min_amount` applies to each order, `order.category` is exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.sql import ColumnElement

from audience.fields import profile_condition
from audience.reach import contactable
from models.audience import EventCondition, Filter, OrderCondition, Range, RfmCondition
from models.tables import BehaviorEvent, Customer, CustomerProfile, Order
from profiles.tags import has_any_tag


def compile_filter(f: Filter, as_of: datetime) -> ColumnElement[bool]:
    """The predicate on `Customer` for filter node `f`, evaluated as of `as_of`."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if f.all is not None:
        return and_(*(compile_filter(x, as_of) for x in f.all))
    if f.any is not None:
        return or_(*(compile_filter(x, as_of) for x in f.any))
    if f.not_ is not None:
        return not_(compile_filter(f.not_, as_of))
    if f.profile is not None:
        return profile_condition(f.profile, as_of)
    if f.rfm is not None:
        return _on_profile(*_rfm(f.rfm))
    if f.segment is not None:
        return _on_profile(CustomerProfile.segment.in_(list(f.segment)))
    if f.lifecycle is not None:
        return _on_profile(CustomerProfile.lifecycle.in_(list(f.lifecycle)))
    if f.tag is not None:
        return has_any_tag(list(f.tag))
    if f.event is not None:
        return _event(f.event, as_of)
    if f.order is not None:
        return _order(f.order, as_of)
    if f.consent is not None:
        return contactable(f.consent)
    raise ValueError("empty filter node")  # unreachable: the model requires one key


def _on_profile(*conds: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        select(CustomerProfile.customer_id)
        .where(CustomerProfile.customer_id == Customer.id, *conds)
        .correlate(Customer)
        .exists()
    )


def _plain(value: Decimal) -> int | float:
    """Bound values as int or float: both backends bind them natively."""
    return int(value) if value == value.to_integral_value() else float(value)


def _range(column: Any, rng: Range) -> list[ColumnElement[bool]]:
    ops = (
        ("gt", column.__gt__),
        ("gte", column.__ge__),
        ("lt", column.__lt__),
        ("lte", column.__le__),
        ("eq", column.__eq__),
    )
    return [
        apply(_plain(getattr(rng, name))) for name, apply in ops if getattr(rng, name) is not None
    ]


def _rfm(cond: RfmCondition) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for name in ("r_score", "f_score", "m_score", "recency_days", "frequency", "monetary"):
        rng = getattr(cond, name)
        if rng is not None:
            conds.extend(_range(getattr(CustomerProfile, name), rng))
    return conds


def _counted(
    customer_id: Any, conds: list[ColumnElement[bool]], at_least: int
) -> ColumnElement[bool]:
    """At least `at_least` rows matching `conds`: EXISTS for one, grouped IN otherwise."""
    if at_least == 1:
        return (
            select(customer_id)
            .where(customer_id == Customer.id, *conds)
            .correlate(Customer)
            .exists()
        )
    return Customer.id.in_(
        select(customer_id).where(*conds).group_by(customer_id).having(func.count() >= at_least)
    )


def _event(cond: EventCondition, as_of: datetime) -> ColumnElement[bool]:
    ev = BehaviorEvent
    since = as_of - timedelta(days=cond.within_days)
    return _counted(
        ev.customer_id,
        [ev.event_type == cond.type, ev.occurred_at > since, ev.occurred_at <= as_of],
        cond.at_least,
    )


def _order(cond: OrderCondition, as_of: datetime) -> ColumnElement[bool]:
    since = as_of - timedelta(days=cond.within_days)
    conds = [Order.ordered_at > since, Order.ordered_at <= as_of]
    if cond.category is not None:
        conds.append(Order.category == cond.category)
    if cond.min_amount is not None:
        conds.append(Order.amount >= _plain(cond.min_amount))
    return _counted(Order.customer_id, conds, cond.at_least)
