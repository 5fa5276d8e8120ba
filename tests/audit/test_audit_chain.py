"""The audit log is a hash chain: altering, removing or reordering an entry is detected."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update

from audit.log import append, verify
from db.engine import make_engine, session_scope
from models.tables import AuditEntry
from tests.conftest import create_database, drop_database, migrate

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def audit_db() -> tuple[str, Engine]:  # type: ignore[misc]
    url = create_database("omni_audit")
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        for i in range(5):
            append(
                session,
                at=T0 + timedelta(minutes=i),
                actor="李娜",
                action="budget.approved",
                campaign_id="cmp-1",
                detail={"n": i, "comment": "同意"},
            )
    yield url, engine
    engine.dispose()
    drop_database(url)


def test_an_untouched_chain_verifies(audit_db: tuple[str, Engine]) -> None:
    with session_scope(audit_db[1]) as session:
        check = verify(session)
    assert check.ok and check.entries == 5


def test_an_altered_entry_is_detected(audit_db: tuple[str, Engine]) -> None:
    url, engine = audit_db
    with session_scope(engine) as session:
        third = session.execute(
            select(AuditEntry.id).order_by(AuditEntry.id).offset(2).limit(1)
        ).scalar_one()
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == third)
            .values(actor="王芳", detail={"n": 2, "comment": "同意"})
        )
    with session_scope(engine) as session:
        check = verify(session)
    assert not check.ok and check.broken_at == third and "altered" in check.reason
    keys = {k: v for k, v in os.environ.items() if k.startswith("OMNIREACH_")}  # the audit key
    proc = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "audit", "--verify"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=keys | {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1 and f"broken at entry {third}" in proc.stderr


def test_a_removed_entry_is_detected(audit_db: tuple[str, Engine]) -> None:
    engine = audit_db[1]
    with session_scope(engine) as session:
        second = session.execute(
            select(AuditEntry.id).order_by(AuditEntry.id).offset(1).limit(1)
        ).scalar_one()
        session.execute(delete(AuditEntry).where(AuditEntry.id == second))
    with session_scope(engine) as session:
        check = verify(session)
    assert not check.ok and check.broken_at == second + 1 and "removed" in check.reason
