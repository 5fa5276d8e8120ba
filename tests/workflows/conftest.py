"""A seeded PostgreSQL base and a worker context for workflow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from activities.context import WorkerContext, configure
from channels.registry import build_channels
from db.engine import session_scope
from demo.seed import seed_demo


@pytest.fixture(scope="session")
def seeded(pg_engine: Engine) -> Iterator[Engine]:
    with session_scope(pg_engine) as session:
        seed_demo(session, customers=300, seed=11)
    configure(WorkerContext(engine=pg_engine, channels=build_channels(pg_engine, {})))
    yield pg_engine
