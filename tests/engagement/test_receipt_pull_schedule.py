"""Receipts pulled on their own: the worker creates one Temporal Schedule per task queue (none
with OMNIREACH_RECEIPT_PULL_MINUTES=0) whose ReceiptPullWorkflow asks the configured SMS
provider's emulator about sends whose callback never came and stores each receipt once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from starlette.testclient import TestClient
from temporalio.client import ScheduleOverlapPolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer

import activities.context
from activities.context import WorkerContext, configure
from activities.receipts import pull_sms_receipts
from channels.sms_aliyun import AliyunSmsChannel, AliyunSmsSettings
from db.engine import session_scope
from emulators.aliyun_sms import AliyunSmsEmulator
from emulators.server import serve
from engagement.service import create_app
from models.contracts import ReceiptPullResult
from orchestration.receipt_pull_schedule import (
    ensure_receipt_pull_schedule,
    receipt_pull_on_start,
    receipt_pull_schedule_id,
)
from orchestration.worker_setup import build_worker
from policy.frequency_cap import CapRules
from tests.engagement.kit import events_of, sms_sends
from tests.governance.dbkit import fresh_database
from tests.workflows.test_worker_processes import start_worker
from workflows.receipt_pull import ReceiptPullWorkflow

SECRET = "receipt-secret-0123456789"
SIGN = "欧姆尼零售"
KEY_ID, KEY_SECRET = "LTAI5tSched", "sched-secret"


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A database of its own: the pull asks about every send still without a receipt."""
    with fresh_database() as (made, _):
        yield made


@pytest.fixture
def context(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(activities.context, "_current", None)  # restored for later tests
    configure(WorkerContext(engine=engine, channels={}, caps=CapRules.unlimited()))
    return engine


def _pulled(outcome: str) -> float:
    labels = {"provider": "aliyun", "outcome": outcome}
    return REGISTRY.get_sample_value("omnireach_receipts_pulled_total", labels) or 0.0


async def _pull(env: WorkflowEnvironment, queue: str, run: str) -> ReceiptPullResult:
    return await env.client.execute_workflow(
        ReceiptPullWorkflow.run, id=f"pull-{queue}-{run}", task_queue=queue
    )


def _emulator() -> AliyunSmsEmulator:
    return AliyunSmsEmulator(
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )


def _configured(monkeypatch: pytest.MonkeyPatch, url: str, secret: str) -> AliyunSmsChannel:
    """sms=aliyun configured with `secret`; the channel to send through, with the right one."""
    for name, value in {
        "OMNIREACH_CHANNEL_PROVIDERS": "sms=aliyun",
        "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_ID": KEY_ID,
        "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_SECRET": secret,
        "OMNIREACH_ALIYUN_SMS_SIGN_NAME": SIGN,
        "OMNIREACH_ALIYUN_SMS_ENDPOINT": f"{url}/",
    }.items():
        monkeypatch.setenv(name, value)
    settings = AliyunSmsSettings(
        access_key_id=KEY_ID, access_key_secret=KEY_SECRET, sign_name=SIGN, endpoint=f"{url}/"
    )
    return AliyunSmsChannel(settings)


async def test_the_scheduled_pull_stores_what_no_callback_brought_once(
    dev_env: WorkflowEnvironment, context: Engine, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = context
    emu = _emulator()
    with serve(emu.app) as url:
        channel = _configured(monkeypatch, url, KEY_SECRET)
        ids, phones = await sms_sends(engine, channel, "SMS_100001", {"name": "张三"}, 3)
        reports = emu.status_reports({phones[1]: "MOBILE_NOT_ON_SERVICE"})
        pushed = [r for r in reports if r["phone_number"] == phones[0]]
        environ = {"OMNIREACH_ALIYUN_SMS_CALLBACK_SECRET": SECRET}
        with TestClient(create_app(engine, environ=environ)) as web:
            answer = web.post("/receipts/sms/aliyun", params={"token": SECRET}, json=pushed)
        assert answer.status_code == 200  # the first send's callback came; the others' never
        stored_before = _pulled("stored")
        async with build_worker(dev_env.client, task_queue):
            first = await _pull(dev_env, task_queue, "1")
            second = await _pull(dev_env, task_queue, "2")
    assert (first.provider, first.skipped, first.asked, first.stored) == ("aliyun", None, 2, 2)
    assert (first.received, first.waiting, first.unmatched, first.errors) == (2, 0, 0, {})
    assert (second.asked, second.received, second.stored) == (0, 0, 0)
    with session_scope(engine) as s:
        assert [events_of(s, i) for i in ids] == [["delivered"], ["failed_delivery"], ["delivered"]]
    assert _pulled("stored") - stored_before == 2
    handle = dev_env.client.get_workflow_handle(f"pull-{task_queue}-1")
    history = await handle.fetch_history()
    [scheduled] = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert timedelta(0) < scheduled.heartbeat_timeout.ToTimedelta() <= timedelta(seconds=60)
    replayer = Replayer(
        workflows=[ReceiptPullWorkflow], data_converter=dev_env.client.data_converter
    )
    await replayer.replay_workflow(history)


async def test_refused_calls_are_counted_by_provider_and_code(
    context: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = _emulator()
    labels = {"provider": "aliyun", "code": "SignatureDoesNotMatch"}
    before = REGISTRY.get_sample_value("omnireach_receipt_pull_errors_total", labels) or 0.0
    with serve(emu.app) as url:
        ids, _ = await sms_sends(
            context, _configured(monkeypatch, url, "wrong"), "SMS_100001", {"name": "张"}, 1
        )
        emu.settle()
        done = await ActivityEnvironment().run(pull_sms_receipts)
    assert (done.asked, done.stored, done.errors) == (1, 0, {"SignatureDoesNotMatch": 1})
    after = REGISTRY.get_sample_value("omnireach_receipt_pull_errors_total", labels)
    assert after == before + 1
    with session_scope(context) as s:
        assert events_of(s, ids[0]) == []


async def test_with_no_pullable_provider_the_pull_does_nothing_and_says_so(
    dev_env: WorkflowEnvironment, context: Engine, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "email=smtp")
    async with build_worker(dev_env.client, task_queue):
        done = await _pull(dev_env, task_queue, "sandbox")
    assert done.provider is None and (done.asked, done.stored) == (0, 0)
    assert done.skipped is not None
    assert done.skipped.startswith("OMNIREACH_CHANNEL_PROVIDERS: sms goes to the sandbox")


async def test_the_schedule_is_created_once_per_task_queue(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    every = timedelta(minutes=20)
    said = await receipt_pull_on_start(client, task_queue, every)
    assert said == (
        f"created schedule {receipt_pull_schedule_id(task_queue)}: "
        "SMS receipts are pulled every 20 min"
    )
    assert not await ensure_receipt_pull_schedule(client, task_queue, every)
    assert await receipt_pull_on_start(client, task_queue, every) == (
        f"schedule {receipt_pull_schedule_id(task_queue)} is there already"
    )
    handle = client.get_schedule_handle(receipt_pull_schedule_id(task_queue))
    try:
        desc = await handle.describe()
    finally:
        await handle.delete()
    assert [i.every for i in desc.schedule.spec.intervals] == [every]
    assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert desc.schedule.action.workflow == "ReceiptPullWorkflow"  # type: ignore[attr-defined]


async def _started(logs: list[Path]) -> None:
    for _ in range(600):
        if all(log.exists() and "polling" in log.read_text() for log in logs):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("a worker never started: " + " | ".join(log.read_text() for log in logs))


async def test_workers_create_the_schedule_once_and_none_with_zero(
    dev_env: WorkflowEnvironment, engine: Engine, tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    queue, idle = f"q-{uuid.uuid4().hex[:6]}", f"q-{uuid.uuid4().hex[:6]}"
    logs = [tmp_path / f"w{i}.log" for i in range(3)]
    workers = [
        start_worker(dev_env, url, queue, logs[0], OMNIREACH_RECEIPT_PULL_MINUTES="15"),
        start_worker(dev_env, url, queue, logs[1], OMNIREACH_RECEIPT_PULL_MINUTES="15"),
        start_worker(dev_env, url, idle, logs[2], OMNIREACH_RECEIPT_PULL_MINUTES="0"),
    ]
    try:
        await _started(logs)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(30)
    handle = dev_env.client.get_schedule_handle(receipt_pull_schedule_id(queue))
    desc = await handle.describe()
    await handle.delete()
    assert [i.every for i in desc.schedule.spec.intervals] == [timedelta(minutes=15)]
    made = f"created schedule {receipt_pull_schedule_id(queue)}"
    assert sum(log.read_text().count(made) for log in logs) == 1
    with pytest.raises(RPCError) as missing:
        await dev_env.client.get_schedule_handle(receipt_pull_schedule_id(idle)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    assert "receipt-pull" not in logs[2].read_text()
