"""Time arithmetic inside SQL that reads the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Interval, func, literal
from sqlalchemy.sql import ColumnElement


def not_later_than(dialect: str, late: Any, early: Any, window: timedelta) -> ColumnElement[bool]:
    """`late <= early + window`: intervals on PostgreSQL, julian days on SQLite."""
    if dialect == "postgresql":
        return late <= early + literal(window, Interval())
    return func.julianday(late) <= func.julianday(early) + window.total_seconds() / 86400
