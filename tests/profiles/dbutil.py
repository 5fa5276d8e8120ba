"""Throwaway databases for the research and planning tests: real PostgreSQL, and SQLite files."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

import models.schema  # noqa: F401  (registers every table on Base.metadata)
from db.engine import make_engine
from models.tables import Base

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    """A new, uniquely named PostgreSQL database with the schema; dropped afterwards."""
    name = f"omni_t_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{PG_SERVER}/{name}")
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_engine(folder: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{folder / 'omni.db'}")
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()


def clear(engine: Engine) -> None:
    """Empty every table (children first), so one database can serve many tests."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
