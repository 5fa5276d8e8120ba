"""Bulk writes across PostgreSQL and SQLite: multi-row statements, not one round trip per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 1000


def _chunks(rows: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain multi-row INSERT."""
    for chunk in _chunks(rows):
        session.execute(insert(table).values(list(chunk)))


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                  conflict: Sequence[str]) -> int:
    """Multi-row INSERT that skips rows colliding on `conflict`; returns rows inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = 0
    for chunk in _chunks(rows):
        stmt = dialect.insert(table).values(list(chunk))
        result = session.execute(stmt.on_conflict_do_nothing(index_elements=list(conflict)))
        inserted += max(result.rowcount or 0, 0)
    return inserted


def update_by_id(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of {'id': …, column: value}: one UPDATE … WHERE id IN (…) per distinct set of values."""
    groups: dict[tuple[tuple[str, Any], ...], list[Any]] = defaultdict(list)
    for row in rows:
        values = tuple(sorted((k, v) for k, v in row.items() if k != "id"))
        groups[values].append(row["id"])
    for values, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            session.execute(update(table).where(table.c.id.in_(ids[start:start + CHUNK]))
                            .values(dict(values)))
