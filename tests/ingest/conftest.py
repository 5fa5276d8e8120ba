"""Fixtures for the importer tests: a throwaway PostgreSQL database and test PII keys."""

from __future__ import annotations

import base64
import csv
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Engine, text

import models.ingest_tables  # noqa: F401  (registers the importer's tables)
from db.engine import make_engine
from models.tables import Base
from privacy.keys import keyring
from settings import settings

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/"


@pytest.fixture(scope="package", autouse=True)
def pii_keys() -> Iterator[None]:
    """Fixed test keys from the environment, so no key file is written into the tree."""
    saved = {k: os.environ.get(k) for k in ("OMNIREACH_PII_KEYS", "OMNIREACH_INDEX_KEY")}
    os.environ["OMNIREACH_PII_KEYS"] = "t1:" + base64.b64encode(b"k" * 32).decode()
    os.environ["OMNIREACH_INDEX_KEY"] = base64.b64encode(b"i" * 32).decode()
    keyring.cache_clear()
    settings.cache_clear()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    keyring.cache_clear()
    settings.cache_clear()


def _admin(sql: str) -> None:
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Engine]:
    """One PostgreSQL database with the full schema for this test session, dropped after."""
    name = f"omni_t_{uuid.uuid4().hex[:8]}"
    _admin(f"CREATE DATABASE {name}")
    engine = make_engine(SERVER + name)
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg(pg_database: Engine) -> Engine:
    """The session's PostgreSQL database, emptied (ids restarted) for this test."""
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with pg_database.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return pg_database


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database file with the full schema."""
    engine = make_engine(f"sqlite:///{tmp_path / 'omni.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


DATA_TABLES = (
    "customers",
    "orders",
    "behavior_events",
    "consent_events",
    "customer_tags",
    "customer_aliases",
    "customer_merges",
    "import_flags",
    "imported_event_keys",
)


@pytest.fixture
def counts() -> Callable[[Engine], dict[str, int]]:
    """Row counts of every table the importer writes (import_runs aside)."""

    def count(engine: Engine) -> dict[str, int]:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in DATA_TABLES
            }

    return count


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file (text as UTF-8, or raw bytes) into the test's folder."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return make


@pytest.fixture
def read_rejects() -> Callable[[Path], list[dict[str, str]]]:
    def read(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    return read
