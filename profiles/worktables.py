"""The work tables a profile refresh reads, filled side by side on PostgreSQL.

On PostgreSQL the three aggregates of profiles/stats.py run at once on connections of their own,
each in a REPEATABLE READ transaction on the snapshot the refresh exported, so together they see
the data exactly as one statement would. Their tables are UNLOGGED (scratch data, no WAL) and
named per refresh and dropped by its transaction; refreshes take turns (an advisory lock), so
a table left by one that failed or crashed is dropped by the next. A transaction that has already written data the other connections could
not see, or that would not see their tables' rows (REPEATABLE READ and stricter), SQLite, and
sessions bound to a single connection fill temp tables one after another.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, MetaData, Table, func, select, text
from sqlalchemy.orm import Session

from profiles.sqlutil import Db, analyze, dialect, temp_table, tune_for_bulk
from profiles.stats import (
    CHANNEL_COLUMNS,
    HOUR_COLUMNS,
    ORDER_COLUMNS,
    columns,
    fill_channel_stats,
    fill_hour_stats,
    fill_order_stats,
)

PREFIX = "profile_work_"
REFRESH_LOCK = 0x70726F66  # advisory-lock key: one profile refresh at a time
Fill = Callable[..., None]


@dataclass(frozen=True)
class Stats:
    orders: Table
    hours: Table
    channels: Table


def lock_refresh(session: Session) -> None:
    """Wait for any other refresh to finish (until this transaction ends; PostgreSQL only)."""
    if dialect(session) == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))


@contextmanager
def customer_stats(session: Session, as_of: datetime, window_days: int | None) -> Iterator[Stats]:
    """The three aggregates as of `as_of`, in tables that live for the block."""
    jobs: list[tuple[str, Any, Fill, tuple[Any, ...]]] = [
        ("hours", HOUR_COLUMNS, fill_hour_stats, (as_of,)),
        ("orders", ORDER_COLUMNS, fill_order_stats, (as_of, window_days)),
        ("channels", CHANNEL_COLUMNS, fill_channel_stats, (as_of,)),
    ]
    bind = session.get_bind()
    if dialect(session) == "postgresql" and isinstance(bind, Engine) and _shareable(session):
        with _side_by_side(session, bind, jobs) as stats:
            yield stats
        return
    with ExitStack() as stack:
        tables = {}
        for name, spec, fill, args in jobs:
            table = stack.enter_context(temp_table(session, f"tmp_{name}_stats", *columns(spec)))
            fill(session, table, *args)
            analyze(session, table)
            tables[name] = table
        yield Stats(**tables)


def _shareable(session: Session) -> bool:
    """Whether other connections can compute what this transaction would see, and this one
    then sees what they wrote: it has written nothing yet, and reads each statement afresh."""
    written = session.execute(select(func.txid_current_if_assigned())).scalar() is not None
    level = session.connection().get_isolation_level()
    return not written and level == "READ COMMITTED"


@contextmanager
def _side_by_side(
    session: Session, engine: Engine, jobs: list[tuple[str, Any, Fill, tuple[Any, ...]]]
) -> Iterator[Stats]:
    _drop_leftovers(session)
    snapshot = session.execute(select(func.pg_export_snapshot())).scalar_one()
    run = uuid.uuid4().hex[:12]
    tables = {
        name: Table(f"{PREFIX}{name}_{run}", MetaData(), *columns(spec), prefixes=["UNLOGGED"])
        for name, spec, _, _ in jobs
    }
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="profile-stats") as pool:
            futures = [
                pool.submit(_fill, engine, snapshot, tables[name], fill, args)
                for name, _, fill, args in jobs
            ]
            for future in futures:
                future.result()
        yield Stats(**tables)
    finally:  # in this transaction, which holds locks on them once read; if it rolls back,
        for table in tables.values():  # the next refresh drops them
            session.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))


def _fill(engine: Engine, snapshot: str, table: Table, fill: Fill, args: tuple[Any, ...]) -> None:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            conn.exec_driver_sql("SET TRANSACTION SNAPSHOT %s", (snapshot,))
            db: Db = conn
            tune_for_bulk(db)
            table.create(conn)
            fill(db, table, *args)
            analyze(db, table)


def _drop_leftovers(session: Session) -> None:
    """Tables of a refresh that failed or crashed (this one holds the refresh lock, so no
    other is using any)."""
    names = (
        session.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename LIKE :p"
            ),
            {"p": PREFIX.replace("_", r"\_") + "%"},
        )
        .scalars()
        .all()
    )
    for name in names:
        session.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
