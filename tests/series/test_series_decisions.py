"""A series is decided like a campaign: a statement signed by an enrolled approver, never the
requester, bound to the version shown; a rejection needs a reason; above the dual-approval
threshold (of the total budget) two different approvers; a new version needs deciding again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from db.engine import make_engine, session_scope
from governance.roles import NotAllowed
from governance.series import SeriesVerdict, approval_state, decide_series, get_series, save_series
from models.tables import AuditEntry
from tests.campaigns import spec_at
from tests.conftest import create_database, drop_database, migrate
from tests.people import enroll_people, signed_decision

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def db() -> Iterator[Engine]:
    url = create_database("omni_series")
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        enroll_people(session)
    yield engine
    engine.dispose()
    drop_database(url)


def new_series(db: Engine, sid: str, body: str = "{{ honorific }}，会员日礼券已到账。") -> str:
    spec = spec_at(
        NOW,
        channels=[{"channel": "app_push", "template": "t", "body": body}],
        schedule={"cron": "0 10 * * MON", "timezone": "Asia/Shanghai", "total_budget": 5000},
    )
    with session_scope(db) as session:
        save_series(session, sid, spec, "王芳", NOW)
        return get_series(session, sid).fingerprint


def decide(
    db: Engine, sid: str, update: str, by: str, version: str, comment: str = "", signer: str = ""
) -> SeriesVerdict:
    decision = signed_decision(sid, update, by, comment, version, signer=signer or None)
    with session_scope(db) as session:
        return decide_series(session, sid, update, decision, datetime.now(UTC))


def state(db: Engine, sid: str) -> str:
    with session_scope(db) as session:
        return approval_state(session, get_series(session, sid))


def test_who_may_approve_and_what(db: Engine) -> None:
    version = new_series(db, "dec-who")
    cases = [
        ("王芳", "", "王芳 requested campaign dec-who and cannot approve it"),
        ("陈静", "", "陈静 does not hold the approver role"),
        ("李娜", "王芳", "the statement is signed by 王芳, not 李娜"),
    ]
    for by, signer, message in cases:
        with pytest.raises(NotAllowed, match=message):
            decide(db, "dec-who", "approve", by, version, signer=signer)
    with pytest.raises(NotAllowed, match="changed since it was shown"):
        decide(db, "dec-who", "approve", "李娜", "0" * 16)
    assert state(db, "dec-who") == "awaiting approval (0 of 1)"
    verdict = decide(db, "dec-who", "approve", "李娜", version)
    assert verdict.approved and state(db, "dec-who") == "approved"
    with pytest.raises(NotAllowed, match="is approved, not awaiting approval"):
        decide(db, "dec-who", "approve", "赵强", version)
    with session_scope(db) as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.campaign_id == "dec-who", AuditEntry.action == "series.approved"
            )
        ).one()
        assert entry.actor == "李娜" and entry.detail["signed"]["key_id"]

    changed = new_series(db, "dec-who", body="{{ honorific }}，周末礼券已到账。")
    assert changed != version and state(db, "dec-who") == "awaiting approval (0 of 1)"
    assert decide(db, "dec-who", "approve", "李娜", changed).approved


def test_a_rejection_needs_a_reason_and_stops_the_version(db: Engine) -> None:
    version = new_series(db, "dec-reject")
    with pytest.raises(NotAllowed, match="a rejection needs a reason"):
        decide(db, "dec-reject", "reject", "李娜", version)
    assert not decide(db, "dec-reject", "reject", "李娜", version, comment="预算过高").approved
    assert state(db, "dec-reject") == "rejected by 李娜: 预算过高"
    with pytest.raises(NotAllowed, match="not awaiting approval"):
        decide(db, "dec-reject", "approve", "赵强", version)


def test_above_the_threshold_two_approvers(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIREACH_DUAL_APPROVAL_ABOVE", "1000")
    version = new_series(db, "dec-dual")
    first = decide(db, "dec-dual", "approve", "李娜", version)
    assert not first.approved and "needs 1 more approver(s)" in first.message
    assert state(db, "dec-dual") == "awaiting approval (1 of 2)"
    with pytest.raises(NotAllowed, match="already approved"):
        decide(db, "dec-dual", "approve", "李娜", version)
    assert decide(db, "dec-dual", "approve", "赵强", version).approved
