"""CN-29 retention: each kind of data past its period is purged (customers crypto-shredded as
`forget` does, the suppression token kept), every purge is audited and counted in Prometheus,
the Temporal Schedule runs the purge and `retention` shows the policy and the next purge. Time
is moved forward: an explicit `at`, and the time-skipping test server's clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

import activities.context
from activities.context import WorkerContext, configure
from db.engine import session_scope
from models.compliance_tables import CallEvidence
from models.tables import AuditEntry, BehaviorEvent, Customer, Order, SandboxOutbox, Suppression
from optout.retention import RetentionPolicy, inactive_customers, purge
from orchestration.retention_schedule import (
    ensure_retention_schedule,
    next_purge,
    retention_on_start,
    retention_schedule_id,
)
from orchestration.worker_setup import build_worker
from policy.frequency_cap import CapRules
from privacy.cipher import encrypt
from settings import SettingsError, settings
from tests.conftest import BIN, ROOT
from tests.governance.dbkit import fresh_database, make_customer
from workflows.retention_purge import RetentionPurgeWorkflow

POLICY = RetentionPolicy(customer_years=3, events_days=365, bodies_days=90, call_evidence_days=30)
START = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)  # when the test data is dated


@pytest.fixture
def engine() -> Iterator[Engine]:
    with fresh_database() as (made, _):
        yield made


def _data(
    session: Session, at: datetime, ordered_after: timedelta = timedelta(days=365)
) -> tuple[int, int]:
    """A customer whose last activity is `at`, with an event and a call's evidence dated then;
    and a customer sent a message then who orders `ordered_after` later. Returns their ids."""
    quiet = make_customer(session, grant=("sms", "outbound_call"))
    quiet.registered_at = at
    buyer = make_customer(session)
    buyer.registered_at = at
    session.add_all(
        [
            BehaviorEvent(customer_id=quiet.id, event_type="browse", occurred_at=at),
            Order(
                external_id=f"o-{uuid.uuid4().hex[:8]}",
                customer_id=buyer.id,
                ordered_at=at + ordered_after,
                amount=99,
            ),
            SandboxOutbox(
                idempotency_key=f"k-{uuid.uuid4().hex[:8]}",
                campaign_id="c1",
                customer_id=buyer.id,
                channel="sms",
                address_enc=encrypt("13900000000", "address_outbox"),
                subject=None,
                body="会员日礼券已到账",
                received_at=at,
            ),
            CallEvidence(
                planned_send_id=int(uuid.uuid4().int % 10**9),
                campaign_id="c1",
                customer_id=quiet.id,
                caller="4008001234",
                callee_enc=quiet.phone_enc,
                consent_event_id=1,
                recording_ref="https://rec.example/1.mp3",
                result="answered",
                called_at=at,
            ),
        ]
    )
    session.flush()
    return quiet.id, buyer.id


def _purge_all(engine: Engine, at: datetime) -> dict[str, int]:
    done = {}
    for kind in POLICY.periods():
        with session_scope(engine) as s:
            done[kind] = purge(s, kind, POLICY, at)
    return done


def test_each_kind_goes_once_its_period_is_over(engine: Engine) -> None:
    with session_scope(engine) as s:
        quiet, buyer = _data(s, START)
        phone_index = s.get_one(Customer, quiet).phone_index
    assert _purge_all(engine, START + timedelta(days=29)) == dict.fromkeys(POLICY.periods(), 0)
    after_a_month = _purge_all(engine, START + timedelta(days=31))
    assert after_a_month == {
        "customers": 0,
        "behaviour_events": 0,
        "message_bodies": 0,
        "call_evidence": 1,
    }
    after_a_year = _purge_all(engine, START + timedelta(days=366))
    assert after_a_year["behaviour_events"] == 1 and after_a_year["message_bodies"] == 1
    assert after_a_year["customers"] == 0
    three_years = START + timedelta(days=3 * 365 + 1)
    assert _purge_all(engine, three_years)["customers"] == 1  # the buyer ordered a year later
    with session_scope(engine) as s:
        gone = s.get_one(Customer, quiet)
        assert gone.erased_at == three_years and gone.phone_enc is None and gone.name_enc is None
        assert s.get_one(Customer, buyer).erased_at is None
        kept = s.execute(
            select(Suppression.reason).where(Suppression.address_index == phone_index)
        ).scalars()
        assert list(kept) == ["erasure"]  # the token that keeps a re-import suppressed
        [outbox] = s.execute(select(SandboxOutbox)).scalars()
        assert outbox.body == "" and b"13900000000" not in outbox.address_enc
        assert s.execute(select(func.count()).select_from(CallEvidence)).scalar_one() == 0
        audited = s.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.detail).order_by(AuditEntry.id)
        ).all()
    purges = [d for a, _, d in audited if a == "retention.purged"]
    assert len(purges) == 16 and {d["kind"] for d in purges} == set(POLICY.periods())
    assert {"kind": "customers", "purged": 1}.items() <= purges[-4].items()
    assert ("erasure", "retention") in [(a, who) for a, who, _ in audited]
    assert _purge_all(engine, three_years) == dict.fromkeys(POLICY.periods(), 0)
    assert _purge_all(engine, START + timedelta(days=4 * 365 + 2))["customers"] == 1  # buyer


def test_a_customer_with_no_date_is_never_taken_for_inactive(engine: Engine) -> None:
    with session_scope(engine) as s:
        undated = make_customer(s, grant=())
        undated.registered_at = None
        s.flush()
        assert undated.id not in inactive_customers(s, START + timedelta(days=10_000))


def test_call_evidence_is_kept_30_days_at_least(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIREACH_RETENTION_CALL_EVIDENCE_DAYS", "29")
    settings.cache_clear()
    with pytest.raises(SettingsError, match="OMNIREACH_RETENTION_CALL_EVIDENCE_DAYS is '29'"):
        settings()


def _purged(kind: str) -> float:
    return REGISTRY.get_sample_value("omnireach_retention_purged_total", {"kind": kind}) or 0.0


async def test_the_workflow_purges_once_the_clock_has_moved_on(
    engine: Engine, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privacy.codec import data_converter

    monkeypatch.setattr(activities.context, "_current", None)  # restored for later tests
    configure(WorkerContext(engine=engine, channels={}, caps=CapRules.unlimited()))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    try:
        now = await env.get_current_time()
        with session_scope(engine) as s:
            _data(s, now, ordered_after=timedelta(days=100 * 365))  # the buyer stays
        before = {k: _purged(k) for k in POLICY.periods()}
        async with build_worker(env.client, task_queue):
            first = await env.client.execute_workflow(
                RetentionPurgeWorkflow.run, id=f"purge-{task_queue}-1", task_queue=task_queue
            )
            assert sum(first.purged.values()) == 0
            await env.sleep(timedelta(days=3 * 365 + 1))  # the test server's clock moves on
            later = await env.client.execute_workflow(
                RetentionPurgeWorkflow.run, id=f"purge-{task_queue}-2", task_queue=task_queue
            )
    finally:
        await env.shutdown()
    assert later.as_of - now >= timedelta(days=3 * 365), later.as_of - now
    # the default periods: 3 years, 730, 180 and 180 days (the test server may skip further
    # than asked, past activity timeouts: the buyer's order is far enough ahead for that)
    assert later.purged == {
        "customers": 1,
        "behaviour_events": 1,
        "message_bodies": 1,
        "call_evidence": 1,
    }
    assert {k: _purged(k) - before[k] for k in POLICY.periods()} == later.purged


async def test_the_schedule_and_the_command(dev_env: WorkflowEnvironment, task_queue: str) -> None:
    client = dev_env.client
    assert await next_purge(client, task_queue) is None
    every = timedelta(hours=6)
    said = await retention_on_start(client, task_queue, every)
    assert said.startswith(f"created schedule {retention_schedule_id(task_queue)}")
    assert not await ensure_retention_schedule(client, task_queue, every)
    handle = client.get_schedule_handle(retention_schedule_id(task_queue))
    try:
        desc = await handle.describe()
        assert [i.every for i in desc.schedule.spec.intervals] == [every]
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        action = desc.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "RetentionPurgeWorkflow"
        upcoming = await next_purge(client, task_queue)
        assert upcoming is not None
        assert timedelta(0) < upcoming - datetime.now(UTC) <= every
        env = dict(
            os.environ,
            TEMPORAL_ADDRESS=client.service_client.config.target_host,
            OMNIREACH_TASK_QUEUE=task_queue,
            OMNIREACH_RETENTION_EVENTS_DAYS="400",
        )
        shown = subprocess.run(
            [sys.executable, str(ROOT / "starter.py"), "retention", "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        assert doc["periods"]["behaviour_events_days"] == 400
        assert doc["periods"]["call_evidence_days"] == 180
        assert doc["next_purge"] == upcoming.isoformat()
        await handle.pause()
        assert await next_purge(client, task_queue) is None
    finally:
        await handle.delete()


def test_the_compliance_check_warns_while_the_purge_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from compliance.check import check_campaign
    from compliance.plan_stats import PlanStats
    from tests.governance.test_pia import spec

    def cn29() -> list[tuple[str, str]]:
        settings.cache_clear()
        found = check_campaign(spec(), PlanStats())
        return [(f.severity.value, f.evidence) for f in found if f.rule_id == "CN-29"]

    monkeypatch.setenv("OMNIREACH_RETENTION_PURGE_HOURS", "0")
    assert cn29() == [("warn", "OMNIREACH_RETENTION_PURGE_HOURS=0")]
    monkeypatch.setenv("OMNIREACH_RETENTION_PURGE_HOURS", "12")
    assert cn29() == []
