"""A seeded PostgreSQL database of its own and a worker context for workflow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from activities.context import WorkerContext, configure
from channels.registry import build_channels
from db.engine import make_engine, session_scope
from demo.seed import seed_demo
from policy.frequency_cap import CapRules
from tests.conftest import create_database, drop_database, migrate
from tests.people import enroll_people


def seeded_base(prefix: str, customers: int, seed: int) -> Iterator[tuple[str, Engine]]:
    """A database of its own with the demo base, an enrolled admin and 李娜, an approver."""
    url = create_database(prefix)
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        seed_demo(session, customers=customers, seed=seed)
        enroll_people(session, "李娜")
    yield url, engine
    engine.dispose()
    drop_database(url)


@pytest.fixture(scope="session")
def seeded() -> Iterator[Engine]:
    """The demo base (300 customers) with enrolled approvers and a compliance officer."""
    url = create_database("omni_wf")
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        seed_demo(session, customers=300, seed=11)
        enroll_people(session)
    # Campaigns in these tests share customers; caps have their own tests (tests/sending).
    configure(
        WorkerContext(engine=engine, channels=build_channels(engine, {}), caps=CapRules.unlimited())
    )
    yield engine
    engine.dispose()
    drop_database(url)
