"""Bulk writes across PostgreSQL and SQLite: batched statements, not one round trip per row.

On PostgreSQL many rows go as one `INSERT … SELECT FROM unnest(arrays)`: one parameter per
column instead of one per value, which halves the client's CPU per row against SQLAlchemy's
multi-row VALUES pages (bench/send_throughput.py sends write three such tables per send)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Dialect, Table, TextClause, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY

CHUNK = 1000


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain INSERT of many rows."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if _unnest_fits(dialect, table, tuple(rows[0])):
        stmt = _unnest(dialect, table, tuple(rows[0]), ())
        session.execute(stmt, _columns(dialect, table, rows))
    else:  # one cached statement sent in multi-row pages ("insertmanyvalues")
        session.execute(insert(table), list(rows))


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """INSERT of many rows that skips those colliding on `conflict`; returns rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    if _unnest_fits(dialect, table, tuple(rows[0])):
        stmt = _unnest(dialect, table, tuple(rows[0]), tuple(conflict))
        return len(session.execute(stmt, _columns(dialect, table, rows)).all())
    flavour = postgresql if dialect.name == "postgresql" else sqlite
    returning = (
        flavour.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[conflict[0]])
    )
    return len(session.execute(returning, list(rows)).all())


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


def _unnest_fits(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> bool:
    """PostgreSQL, scalar columns only, and no client-side default the rows leave to SQLAlchemy."""
    return dialect.name == "postgresql" and _scalar_only(table, columns)


@lru_cache(maxsize=256)
def _scalar_only(table: Table, columns: tuple[str, ...]) -> bool:
    given = set(columns)
    for column in table.columns:
        if column.name in given:
            if isinstance(column.type, JSON | ARRAY):
                return False
        elif column.default is not None:
            return False
    return True


@lru_cache(maxsize=256)
def _unnest(
    dialect: Dialect, table: Table, columns: tuple[str, ...], conflict: tuple[str, ...]
) -> TextClause:
    prepare = dialect.identifier_preparer
    quote = prepare.quote
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns
    )
    sql = (
        f"INSERT INTO {prepare.format_table(table)} "
        f"({', '.join(quote(name) for name in columns)}) SELECT * FROM unnest({arrays})"
    )
    if conflict:
        sql += (
            f" ON CONFLICT ({', '.join(quote(name) for name in conflict)}) DO NOTHING"
            f" RETURNING {quote(conflict[0])}"
        )
    return text(sql)


def _columns(
    dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]
) -> dict[str, list[Any]]:
    """One list per column, each value through the column's own bind conversion."""
    out: dict[str, list[Any]] = {}
    for name in rows[0]:
        process = _processor(dialect, table, name)
        values = [row[name] for row in rows]
        out[name] = [process(v) for v in values] if process else values
    return out


@lru_cache(maxsize=1024)
def _processor(dialect: Dialect, table: Table, name: str) -> Callable[[Any], Any] | None:
    return table.c[name].type.bind_processor(dialect)
