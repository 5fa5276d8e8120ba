"""`column IN (many values)` that costs one parameter, not one per value.

SQLAlchemy expands an IN list into a bound parameter per value, rendered and converted on every
execution; the send path asks several such questions of 1,000 ids per batch. On PostgreSQL the
values go as one array instead (`column = ANY(:values)`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, literal
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import ARRAY


def among(
    session: Session,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Collection[Any],
) -> ColumnElement[bool]:
    """`column` is one of `values`."""
    expression = column.__clause_element__() if isinstance(column, QueryableAttribute) else column
    if session.get_bind().dialect.name == "postgresql":
        return expression == any_(literal(list(values), ARRAY(expression.type)))
    return expression.in_(list(values))
