"""Profile-field conditions: text columns, and the two whole-number measures (age, days registered).

`ne` and `not_in` are the exact complements of `eq` and `in`: a customer whose value is unknown
(NULL) does not equal anything, so `ne` matches them. Every other comparison with an unknown
value is false, never NULL, so that `not` is always the complement of its operand.

age = the year of D − birth year. registered_days = whole days from registration to D. Both are
whole numbers, so a bound v on them becomes a bound on the stored column (indexable, no date
arithmetic in SQL): e.g. registered_days ≥ v ⇔ registered_at ≤ D − ⌈v⌉ days.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, false, func, not_, or_
from sqlalchemy.sql import ColumnElement

from models.audience import ProfileCondition
from models.tables import Customer

TEXT_COLUMNS = {
    "gender": Customer.gender,
    "city": Customer.city,
    "district": Customer.district,
    "member_level": Customer.member_level,
    "home_store": Customer.home_store,
    "timezone": Customer.timezone,
}
LIMIT = 100_000  # whole-number bounds are clamped to ±LIMIT (years or days): same answer


def known(expr: ColumnElement[bool]) -> ColumnElement[bool]:
    """NULL → false, so the predicate is two-valued."""
    return func.coalesce(expr, false())


Bound = Callable[[int], ColumnElement[bool]]


def _measure(field: str, as_of: datetime) -> tuple[Bound, Bound]:
    """(at_least(k), at_most(k)) for a whole-number measure of the customer."""
    if field == "age":
        year = as_of.year
        return (
            lambda k: Customer.birth_year <= year - k,
            lambda k: Customer.birth_year >= year - k,
        )
    reg = Customer.registered_at
    return (
        lambda k: reg <= as_of - timedelta(days=k),
        lambda k: reg > as_of - timedelta(days=k + 1),
    )


def _number(field: str, value: float | int | str) -> float:
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"profile.{field}: {value!r} is not a number")
    return max(-LIMIT, min(LIMIT, number))


def _numeric(cond: ProfileCondition, as_of: datetime) -> ColumnElement[bool]:
    at_least, at_most = _measure(cond.field, as_of)
    values = [
        _number(cond.field, v)
        for v in (cond.value if isinstance(cond.value, list) else [cond.value])
    ]

    def eq(v: float) -> ColumnElement[bool]:
        return and_(at_least(int(v)), at_most(int(v))) if v == int(v) else false()

    def compare(op: str, v: float) -> ColumnElement[bool]:
        if op == "gt":
            return at_least(math.floor(v) + 1)
        if op == "gte":
            return at_least(math.ceil(v))
        if op == "lt":
            return at_most(math.ceil(v) - 1)
        if op == "lte":
            return at_most(math.floor(v))
        return eq(v)

    op = cond.op
    if op in ("gt", "gte", "lt", "lte", "eq"):
        return known(compare(op, values[0]))
    if op == "ne":
        return not_(known(eq(values[0])))
    if op == "between":
        return known(and_(compare("gte", values[0]), compare("lte", values[1])))
    matches = known(or_(*(eq(v) for v in values)))
    return matches if op == "in" else not_(matches)


def _text(cond: ProfileCondition) -> ColumnElement[bool]:
    column = TEXT_COLUMNS[cond.field]
    value = cond.value
    if cond.op in ("eq", "ne"):
        matches = known(column == value)
        return matches if cond.op == "eq" else not_(matches)
    assert isinstance(value, list)
    if cond.op == "between":
        return known(column.between(value[0], value[1]))
    matches = known(column.in_(value))
    return matches if cond.op == "in" else not_(matches)


def profile_condition(cond: ProfileCondition, as_of: datetime) -> ColumnElement[bool]:
    return _text(cond) if cond.field in TEXT_COLUMNS else _numeric(cond, as_of)
