"""Bulk writes across PostgreSQL and SQLite: batched statements, not one round trip per row.

On PostgreSQL many rows go as one `INSERT … SELECT FROM unnest(arrays)`: one parameter per
column instead of one per value, which halves the client's CPU per row against SQLAlchemy's
multi-row VALUES pages (bench/send_throughput.py sends write three such tables per send)."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Dialect, Table, TextClause, TypeDecorator, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY

from db.among import among

CHUNK = 1000


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain INSERT of many rows."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if _unnest_fits(dialect, table, tuple(rows[0])):
        stmt = _unnest(dialect, table, tuple(rows[0]), (), None)
        session.execute(stmt, _columns(dialect, table, rows))
    else:  # one cached statement sent in multi-row pages ("insertmanyvalues")
        session.execute(insert(table), list(rows))


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """INSERT of many rows that skips those colliding on `conflict`; returns rows inserted."""
    return len(insert_new(session, table, rows, conflict, conflict[0]))


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: str,
) -> list[Any]:
    """INSERT of many rows that skips those colliding on `conflict`; returns the `returning`
    column of each row inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if _unnest_fits(dialect, table, tuple(rows[0])):
        stmt = _unnest(dialect, table, tuple(rows[0]), tuple(conflict), returning)
        return list(session.execute(stmt, _columns(dialect, table, rows)).scalars())
    flavour = postgresql if dialect.name == "postgresql" else sqlite
    statement = (
        flavour.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[returning])
    )
    return list(session.execute(statement, list(rows)).scalars())


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, on whichever backend the session uses."""
    flavour = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return flavour.insert(table)


def update_by_id(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of {'id': …, column: value}: one UPDATE … WHERE id IN (…) per distinct set of values."""
    groups: dict[tuple[tuple[str, Any], ...], list[Any]] = defaultdict(list)
    for row in rows:
        values = tuple(sorted((k, v) for k, v in row.items() if k != "id"))
        groups[values].append(row["id"])
    for values, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            session.execute(
                update(table).where(among(session, table.c.id, chunk)).values(dict(values))
            )


def _unnest_fits(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> bool:
    """PostgreSQL, no array columns, and no client-side default the rows leave to SQLAlchemy."""
    return dialect.name == "postgresql" and _scalar_only(table, columns)


@lru_cache(maxsize=256)
def _scalar_only(table: Table, columns: tuple[str, ...]) -> bool:
    given = set(columns)
    for column in table.columns:
        if column.name in given:
            if isinstance(column.type, ARRAY):
                return False
        elif column.default is not None:
            return False
    return True


@lru_cache(maxsize=256)
def _unnest(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    returning: str | None,
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
            f" RETURNING {quote(returning or conflict[0])}"
        )
    return text(sql)


def _columns(dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """One array literal per column, each value through the column's own bind conversion."""
    out: dict[str, str] = {}
    for name in rows[0]:
        process = _processor(dialect, table, name)
        values = [row[name] for row in rows]
        out[name] = _array_literal([process(v) for v in values] if process else values)
    return out


def _array_literal(values: Sequence[Any]) -> str:
    """PostgreSQL's text form of an array ('{"a","b",NULL}'): the server reads it with one
    array parser, where a list sent as ARRAY[…] is an expression per element to parse and
    evaluate (about twice the time on both ends). Whole columns of ids or plain text take a
    fast path; repeated values (a campaign id, a send time) are encoded once."""
    kinds = set(map(type, values))
    if kinds == {int}:
        return "{" + ",".join(map(str, values)) + "}"
    if kinds == {str}:
        joined = '","'.join(values)
        if '"' not in joined and "\\" not in joined:
            return '{"' + joined + '"}'
    encoded: dict[Any, str] = {}
    out = []
    for value in values:
        if value is None:
            out.append("NULL")
            continue
        try:
            text_ = encoded.get(value)
        except TypeError:  # unhashable: encode each time
            text_ = None
        if text_ is None:
            text_ = _element(value)
            with suppress(TypeError):
                encoded[value] = text_
        out.append(text_)
    return "{" + ",".join(out) + "}"


def _element(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        text_ = value.isoformat()
    elif isinstance(value, bytes | bytearray | memoryview):
        text_ = "\\x" + bytes(value).hex()  # bytea's hex form, escaped like any text below
    elif isinstance(value, bool):
        text_ = "t" if value else "f"
    else:
        text_ = str(value)
    return '"' + text_.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=1024)
def _processor(dialect: Dialect, table: Table, name: str) -> Callable[[Any], Any] | None:
    """The column type's own conversion (e.g. UTC datetimes); the DBAPI adaptation that
    follows it does not apply, as the values travel in an array's text form."""
    kind = table.c[name].type
    if isinstance(kind, TypeDecorator):
        return functools.partial(kind.process_bind_param, dialect=dialect)
    if isinstance(kind, JSON):  # as SQLAlchemy's JSON stores it: None is SQL NULL or JSON null
        keep_null = kind.none_as_null
        return lambda value: None if value is None and keep_null else json.dumps(value)
    return None
