"""Bulk writes across PostgreSQL and SQLite: batched statements, not one round trip per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 1000


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain INSERT of many rows. One cached statement, executed as many: SQLAlchemy sends it
    in multi-row pages ("insertmanyvalues") without compiling a statement per batch."""
    if rows:
        session.execute(insert(table), list(rows))


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """INSERT of many rows that skips those colliding on `conflict`; returns rows inserted."""
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[conflict[0]])
    )
    return len(session.execute(stmt, list(rows)).all())


def update_by_id(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of {'id': …, column: value}: one UPDATE … WHERE id IN (…) per distinct set of values."""
    groups: dict[tuple[tuple[str, Any], ...], list[Any]] = defaultdict(list)
    for row in rows:
        values = tuple(sorted((k, v) for k, v in row.items() if k != "id"))
        groups[values].append(row["id"])
    for values, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            session.execute(
                update(table).where(table.c.id.in_(ids[start : start + CHUNK])).values(dict(values))
            )
