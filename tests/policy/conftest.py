"""A PostgreSQL database of this folder's own: the migrated schema plus the quota tables (not in
the migration yet), and a customer factory (no PII is needed to hold a quota)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

import models.quota_tables  # noqa: F401  (registers the tables under test)
import models.schema  # noqa: F401  (every other table)
from db.engine import make_engine, session_scope
from models.tables import Base, Customer
from tests.conftest import create_database, drop_database, migrate


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    url = create_database("omni_quota")
    made = make_engine(url)
    try:
        migrate(url)
        Base.metadata.create_all(made)
        yield made
    finally:
        made.dispose()
        drop_database(url)


def make_customers(engine: Engine, n: int = 1) -> list[tuple[int, str]]:
    """`n` customers, each with a WeChat openid: [(id, openid)]."""
    made = [
        Customer(
            external_id=f"q-{uuid.uuid4().hex[:12]}", wechat_openid="oQuota" + uuid.uuid4().hex[:22]
        )
        for _ in range(n)
    ]
    with session_scope(engine) as session:
        session.add_all(made)
        session.flush()
        return [(c.id, c.wechat_openid or "") for c in made]
