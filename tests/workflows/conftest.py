"""A seeded PostgreSQL base and a worker context for workflow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from activities.context import WorkerContext, configure
from channels.registry import build_channels
from db.engine import session_scope
from demo.seed import seed_demo
from policy.frequency_cap import CapRules


@pytest.fixture(scope="session")
def seeded(pg_engine: Engine) -> Iterator[Engine]:
    with session_scope(pg_engine) as session:
        seed_demo(session, customers=300, seed=11)
    # Campaigns in these tests share customers; caps have their own tests (tests/sending).
    configure(WorkerContext(engine=pg_engine, channels=build_channels(pg_engine, {}),
                            caps=CapRules.unlimited()))
    yield pg_engine
