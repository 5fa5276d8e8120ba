"""The few SQL pieces that differ between PostgreSQL and SQLite, and session-scoped temp tables.

Everything else in profiles/, audience/ and planning/ is portable SQLAlchemy Core. Time
arithmetic is done on integer Unix seconds so both backends compute exactly the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    SQLColumnExpression,
    String,
    Table,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from models.tables import DEFAULT_ZONE, Customer

PG_WORK_MEM = "256MB"


Db = Session | Connection  # what these helpers run on: an ORM session or a plain connection


def dialect(db: Db) -> str:
    return db.dialect.name if isinstance(db, Connection) else db.get_bind().dialect.name


def connection(db: Db) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def epoch_seconds(session: Db, expr: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """Whole Unix seconds of a stored UTC timestamp (floor), as an integer on both backends."""
    if dialect(session) == "postgresql":
        return cast(func.floor(func.extract("epoch", expr)), BigInteger)
    return cast(func.strftime("%s", expr), Integer)


def epoch(at: datetime) -> int:
    """The Python twin of `epoch_seconds` for bound values."""
    return int(at.timestamp() // 1)


def tune_for_bulk(session: Db) -> None:
    """Give this transaction's big sorts and hash joins room in memory (JIT is off for every
    connection: db.engine). PostgreSQL only."""
    if dialect(session) == "postgresql":
        session.execute(func.set_config("work_mem", PG_WORK_MEM, True).select())


def analyze(session: Db, table: Table) -> None:
    """Fresh statistics for a work table, so PostgreSQL plans the joins on it well."""
    if dialect(session) == "postgresql":
        connection(session).exec_driver_sql(f"ANALYZE {table.name}")


@contextmanager
def temp_table(session: Db, name: str, *columns: Column[Any]) -> Iterator[Table]:
    """A temporary table for the length of one block of this session's transaction.

    Staging tables are filled once by INSERT … SELECT and read by hash joins: they carry no
    keys or indexes, which would only slow the fill. On error the table is not dropped here:
    the rollback that follows removes it with the transaction.
    """
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    conn = connection(session)
    table.drop(conn, checkfirst=True)
    table.create(conn)
    yield table
    table.drop(conn)


def utc_offset(tz: str, at: datetime) -> int:
    """Seconds east of UTC for `tz` at `at`; unknown zone names count as the default zone."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_ZONE)
    offset = at.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@contextmanager
def zone_offsets(session: Db, at: datetime) -> Iterator[Table]:
    """Temp table timezone → UTC offset at `at`, for every zone name customers use.

    Local hours of past activity use the offset at `at` (DST shifts in the history are ignored:
    an hour of preference does not need them).
    """
    names = [tz for (tz,) in session.execute(select(Customer.timezone).distinct()) if tz]
    with temp_table(
        session,
        "tmp_zone_offsets",
        Column("timezone", String(64), primary_key=True),
        Column("offset_s", Integer, nullable=False),
    ) as table:
        if names:
            session.execute(
                table.insert(), [{"timezone": tz, "offset_s": utc_offset(tz, at)} for tz in names]
            )
        yield table
