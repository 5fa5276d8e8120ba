"""A seeded PostgreSQL database of its own and a worker context for workflow tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from activities.context import WorkerContext, configure
from channels.registry import build_channels
from db.engine import make_engine, session_scope
from demo.seed import seed_demo
from governance.roles import grant
from policy.frequency_cap import CapRules
from tests.conftest import create_database, drop_database, migrate


@pytest.fixture(scope="session")
def seeded() -> Iterator[Engine]:
    """The demo base (300 customers) with approvers and a compliance officer."""
    url = create_database("omni_wf")
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        seed_demo(session, customers=300, seed=11)
        now = datetime.now(UTC)
        grant(session, "管理员", "admin", by="管理员", at=now)
        for person in ("李娜", "赵强"):
            grant(session, person, "approver", by="管理员", at=now)
        grant(session, "陈静", "compliance_officer", by="管理员", at=now)
    # Campaigns in these tests share customers; caps have their own tests (tests/sending).
    configure(WorkerContext(engine=engine, channels=build_channels(engine, {}),
                            caps=CapRules.unlimited()))
    yield engine
    engine.dispose()
    drop_database(url)
