"""Real worker processes on a real dev server: a kill -9 mid-batch loses and repeats nothing;
two campaigns on two workers never pass a frequency cap; worker logs carry no PII."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from temporalio.testing import WorkflowEnvironment

from emulators.server import free_port
from models.cap_tables import ContactLedger
from models.contracts import CampaignInput, Phase
from models.tables import Campaign, Delivery, PlannedSend, SandboxOutbox
from orchestration.profile_schedule import schedule_id
from orchestration.retention_schedule import retention_schedule_id
from privacy.keys import keyring
from tests.campaigns import new_id, spec_at
from tests.people import decide
from tests.prometheus_text import samples
from tests.workflows.conftest import seeded_base
from tests.workflows.test_campaign_workflow import until_phase
from workflows.campaign import CampaignWorkflow, workflow_id

ROOT = Path(__file__).resolve().parents[2]
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[str, Engine]]:
    yield from seeded_base("omni_proc", customers=2500, seed=5)


def ring_env() -> dict[str, str]:
    """The key ring this process uses, passed on so the worker reads the same data and payloads."""
    ring = keyring()
    keys = ",".join(
        f"{kid}:{base64.b64encode(key).decode()}"
        for kid, key in sorted(ring.keys.items(), key=lambda kv: kv[0] != ring.active_id)
    )
    return {
        "OMNIREACH_PII_KEYS": keys,
        "OMNIREACH_INDEX_KEY": base64.b64encode(ring.index_key).decode(),
    }


def start_worker(
    env: WorkflowEnvironment,
    url: str,
    queue: str,
    log: Path,
    metrics_port: int | None = None,
    /,
    **extra: str,
) -> subprocess.Popen[bytes]:
    target = env.client.service_client.config.target_host
    environ = dict(
        os.environ,
        DATABASE_URL=url,
        TEMPORAL_ADDRESS=target,
        OMNIREACH_TASK_QUEUE=queue,
        OMNIREACH_METRICS_PORT=str(metrics_port or free_port()),
        **ring_env(),
        **{
            "OMNIREACH_PROFILE_REFRESH_MINUTES": "0",
            "OMNIREACH_RETENTION_PURGE_HOURS": "0",
            "OMNIREACH_RECEIPT_PULL_MINUTES": "0",
            **extra,
        },
    )
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environ,
            cwd=ROOT,
        )


def count(engine: Engine, table: type, cid: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(table).where(table.campaign_id == cid)  # type: ignore[attr-defined]
        ).scalar_one()


def progress(engine: Engine, cid: str) -> tuple[int, int]:
    """(messages in the outbox, sends claimed but not yet recorded)."""
    with engine.connect() as conn:
        in_flight = conn.execute(
            select(func.count())
            .select_from(PlannedSend)
            .where(PlannedSend.campaign_id == cid, PlannedSend.status == "sending")
        ).scalar_one()
    return count(engine, SandboxOutbox, cid), in_flight


async def until_sent(engine: Engine, cid: str, n: int, handle: object) -> None:
    for _ in range(1200):
        if progress(engine, cid)[0] >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {n} sent; {await handle.query(CampaignWorkflow.status)}")  # type: ignore[attr-defined]


async def approved_campaign(
    env: WorkflowEnvironment, queue: str, budget_to_plan: Engine | None = None, **overrides: object
):
    """Started, planned and approved; with `budget_to_plan` the budget is cut to exactly the
    plan's cost before approval, so a single send reserved twice would show."""
    now = datetime.now(UTC)
    cid = new_id()
    spec = spec_at(
        now,
        send_window={"start": now + timedelta(seconds=1), "end": now + timedelta(seconds=3)},
        review={"delay": "1s", "attribution_window": "1s"},
        **overrides,
    )
    handle = await env.client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(
            campaign_id=cid,
            spec=spec,
            requested_by="王芳",
            slot_seconds=1,
            send_lanes=2,
            send_max_items=200,
        ),
        id=workflow_id(cid),
        task_queue=queue,
    )
    planned = (await until_phase(handle, Phase.AWAITING_APPROVAL, 120)).counters.planned
    if budget_to_plan is not None:
        with budget_to_plan.begin() as conn:
            cost = conn.execute(
                select(func.sum(PlannedSend.unit_cost)).where(PlannedSend.campaign_id == cid)
            ).scalar_one()
            conn.execute(update(Campaign).where(Campaign.id == cid).values(budget_limit=cost))
    await decide(handle, "approve", by="李娜")
    return handle, cid, planned


PRICED_PUSH = [
    {
        "channel": "app_push",
        "template": "t-priced",
        "priority": 1,
        "unit_cost": "0.01",
        "body": "{{ honorific }}，会员日礼券已到账，{{ end_time }}前有效。",
    }
]


async def test_two_kill_9_mid_batch_then_restart_send_every_planned_message_once_on_budget(
    dev_env: WorkflowEnvironment, base: tuple[str, Engine], tmp_path: Path
) -> None:
    """Budget = exactly the plan's cost; the worker is killed twice with a batch in flight.
    Every planned send is made once, none is refused for budget, spend is exactly what was
    sent, and the status counters say what the database says."""
    url, engine = base
    queue = f"q-{uuid.uuid4().hex[:6]}"
    throttle = {"OMNIREACH_RATE_LIMITS": "app_push=150/s:2", "OMNIREACH_SEND_BATCH_SIZE": "50"}
    log = tmp_path / "worker.log"
    worker = start_worker(dev_env, url, queue, log, **throttle)
    kills: list[tuple[int, int]] = []
    try:
        handle, cid, planned = await approved_campaign(
            dev_env, queue, budget_to_plan=engine, channels=PRICED_PUSH
        )
        assert planned > 500
        for share in (5, 2):
            for _ in range(1500):
                made, in_flight = progress(engine, cid)
                if made > planned // share and in_flight:
                    worker.send_signal(signal.SIGKILL)
                    kills.append((made, in_flight))
                    break
                await asyncio.sleep(0.02)
            worker.wait(10)
            worker = start_worker(dev_env, url, queue, log, **throttle)
        final = await asyncio.wait_for(handle.result(), 240)
    finally:
        worker.kill()
        worker.wait(10)
    assert len(kills) == 2 and all(0 < made < planned and n for made, n in kills), kills
    assert final.phase == Phase.COMPLETED
    assert count(engine, SandboxOutbox, cid) == planned
    assert count(engine, Delivery, cid) == planned
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                select(PlannedSend.status, func.count())
                .where(PlannedSend.campaign_id == cid)
                .group_by(PlannedSend.status)
            ).all()
        )
        spent, limit = conn.execute(
            select(Campaign.spent, Campaign.budget_limit).where(Campaign.id == cid)
        ).one()
        made_cost = conn.execute(
            select(func.sum(Delivery.cost)).where(Delivery.campaign_id == cid)
        ).scalar_one()
    assert statuses == {"sent": planned}
    assert spent == made_cost == limit == Decimal("0.01") * planned
    assert (final.counters.sent, final.counters.suppressed, final.counters.spent) == (
        planned,
        0,
        spent,
    )
    text = log.read_text(errors="replace")
    assert "polling" in text
    assert not PHONE.search(text) and not EMAIL.search(text), "worker log shows PII"


async def test_a_campaign_progresses_at_one_send_a_second(
    dev_env: WorkflowEnvironment, base: tuple[str, Engine], tmp_path: Path
) -> None:
    """At 1/s a pass claims what it can send in its time bound and heartbeats while it waits
    on the limiter: no heartbeat timeout, no retried batch, every send made once."""
    url, engine = base
    queue = f"q-{uuid.uuid4().hex[:6]}"
    worker = start_worker(
        dev_env,
        url,
        queue,
        tmp_path / "w.log",
        OMNIREACH_RATE_LIMITS="app_push=1/s:1",
        OMNIREACH_CAPS_FILE=str(ROOT / "tests" / "workflows" / "no_caps.yaml"),
    )
    try:
        service = [dict(PRICED_PUSH[0], marketing=False)]  # no contact slot: caps not in play
        handle, cid, planned = await approved_campaign(
            dev_env, queue, channels=service, budget={"limit": "0.40"}
        )
        final = await asyncio.wait_for(handle.result(), 180)
    finally:
        worker.kill()
        worker.wait(10)
    assert 30 <= planned <= 40, "longer than a heartbeat timeout at 1/s"
    assert final.phase == Phase.COMPLETED and final.counters.sent == planned
    assert count(engine, SandboxOutbox, cid) == planned
    retried = [
        e.activity_task_started_event_attributes.attempt
        async for e in handle.fetch_history_events()
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.attempt > 1
    ]
    assert not retried, "an activity timed out and was retried"


def scrape(port: int) -> dict[tuple[str, str], float]:
    """A worker's /metrics, as `samples`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return samples(r.read().decode())


async def both_create_one_refresh_schedule(
    env: WorkflowEnvironment, queue: str, logs: list[Path]
) -> None:
    """Workers starting at once: the profile refresh and retention purge schedules exist, each
    made by one of them."""
    for _ in range(300):
        if all(log.exists() and "polling" in log.read_text() for log in logs):
            break
        await asyncio.sleep(0.1)
    handle = env.client.get_schedule_handle(schedule_id(queue))
    desc = await handle.describe()
    await handle.delete()
    assert [i.every for i in desc.schedule.spec.intervals] == [timedelta(minutes=10)]
    assert sum(log.read_text().count(f"created schedule {schedule_id(queue)}") for log in logs) == 1
    purge = env.client.get_schedule_handle(retention_schedule_id(queue))
    purge_desc = await purge.describe()
    await purge.delete()
    assert [i.every for i in purge_desc.schedule.spec.intervals] == [timedelta(hours=24)]
    made = f"created schedule {retention_schedule_id(queue)}"
    assert sum(log.read_text().count(made) for log in logs) == 1


async def test_two_campaigns_on_two_workers_never_pass_the_daily_cap(
    dev_env: WorkflowEnvironment, base: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = base
    queue = f"q-{uuid.uuid4().hex[:6]}"
    logs = [tmp_path / f"w{i}.log" for i in range(2)]
    ports = [free_port() for _ in logs]
    workers = [
        start_worker(
            dev_env,
            url,
            queue,
            log,
            port,
            OMNIREACH_PROFILE_REFRESH_MINUTES="10",
            OMNIREACH_RETENTION_PURGE_HOURS="24",
        )
        for log, port in zip(logs, ports, strict=True)
    ]
    try:
        await both_create_one_refresh_schedule(dev_env, queue, logs)
        audience = {"consent": "email"}
        channel = [
            {
                "channel": "email",
                "template": "t-cap",
                "subject": "【广告】会员日",
                "body": "{{ honorific }}您好，会员日礼券{{ end_time }}前有效。退订：{{ unsubscribe_url }}",
            }
        ]
        (low, low_id, _), (high, high_id, high_planned) = await asyncio.gather(
            approved_campaign(dev_env, queue, priority=3, audience=audience, channels=channel),
            approved_campaign(
                dev_env,
                queue,
                priority=8,
                audience=audience,
                channels=[dict(channel[0], template="t-cap-high")],
            ),
        )
        low_final, high_final = await asyncio.wait_for(
            asyncio.gather(low.result(), high.result()), 180
        )
        scraped = [await asyncio.to_thread(scrape, port) for port in ports]
    finally:
        for w in workers:
            w.kill()
            w.wait(10)
    assert low_final.phase == high_final.phase == Phase.COMPLETED
    with engine.connect() as conn:
        contacts = conn.execute(
            select(ContactLedger.customer_id, func.count()).group_by(ContactLedger.customer_id)
        ).all()
        reasons = {
            cid: set(
                conn.execute(
                    select(PlannedSend.reason).where(
                        PlannedSend.campaign_id == cid, PlannedSend.status == "suppressed"
                    )
                ).scalars()
            )
            for cid in (low_id, high_id)
        }
        high_planned_ids = set(
            conn.execute(
                select(PlannedSend.customer_id).where(PlannedSend.campaign_id == high_id)
            ).scalars()
        )
        low_sent_ids = set(
            conn.execute(
                select(Delivery.customer_id).where(
                    Delivery.campaign_id == low_id, Delivery.outcome == "sent"
                )
            ).scalars()
        )
    # the daily cap holds across every campaign and both workers
    assert contacts and max(n for _, n in contacts) == 1
    # the higher priority campaign only ever loses customers contacted earlier today
    assert reasons[high_id] <= {"frequency_cap:day"}
    assert high_final.counters.sent + high_final.counters.suppressed == high_planned
    # the lower priority campaign never took a customer the higher one planned for
    assert not low_sent_ids & high_planned_ids
    assert reasons[low_id] <= {"frequency_cap:priority", "frequency_cap:day"}
    assert count(engine, SandboxOutbox, low_id) == low_final.counters.sent
    # what Prometheus sees: each worker's sends (together, every one), campaigns by phase, the SDK
    sent = low_final.counters.sent + high_final.counters.sent
    assert sum(m.get(("omnireach_sends_total", "email,sent"), 0) for m in scraped) == sent
    assert all(m[("omnireach_campaigns", "completed")] >= 2 for m in scraped)
    assert all(any(name.startswith("temporal_") for name, _ in m) for m in scraped)


def last_offer(engine: Engine, cid: str) -> datetime:
    """When the provider (the sandbox outbox) last received a message of the campaign."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(SandboxOutbox.received_at)).where(SandboxOutbox.campaign_id == cid)
        ).scalar_one()


async def test_pause_and_cancel_stop_sends_in_flight_within_seconds(
    dev_env: WorkflowEnvironment, base: tuple[str, Engine], tmp_path: Path
) -> None:
    """A provider limit of 40/s and passes allowed 30 s: a batch in flight would keep sending
    for half a minute. After `pause` or `cancel` returns, no message reaches the provider more
    than 5 s later; resume continues; status and the database agree on sent and cancelled."""
    url, engine = base
    queue = f"q-{uuid.uuid4().hex[:6]}"
    throttle = {
        "OMNIREACH_RATE_LIMITS": "app_push=40/s:1",
        "OMNIREACH_SEND_MAX_SECONDS": "30",
        "OMNIREACH_CAPS_FILE": str(ROOT / "tests" / "workflows" / "no_caps.yaml"),
    }
    worker = start_worker(dev_env, url, queue, tmp_path / "w.log", **throttle)
    channel = [
        {
            "channel": "app_push",
            "template": "t-points",
            "marketing": False,
            "body": "{{ honorific }}，您的会员积分已更新。",
        }
    ]
    try:
        handle, cid, planned = await approved_campaign(
            dev_env, queue, audience={"consent": "app_push"}, channels=channel
        )
        await until_sent(engine, cid, planned // 5, handle)
        await handle.signal(CampaignWorkflow.pause)
        paused_at = datetime.now(UTC)
        await asyncio.sleep(8)
        held = progress(engine, cid)[0]
        assert last_offer(engine, cid) <= paused_at + timedelta(seconds=5)
        assert held < planned
        assert (await handle.query(CampaignWorkflow.status)).paused
        await handle.signal(CampaignWorkflow.resume)
        await until_sent(engine, cid, min(planned, held + planned // 5), handle)
        await handle.signal(CampaignWorkflow.cancel)
        cancelled_at = datetime.now(UTC)
        final = await asyncio.wait_for(handle.result(), 60)
    finally:
        worker.kill()
        worker.wait(10)
    assert last_offer(engine, cid) <= cancelled_at + timedelta(seconds=5)
    assert final.phase == Phase.CANCELLED
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                select(PlannedSend.status, func.count())
                .where(PlannedSend.campaign_id == cid)
                .group_by(PlannedSend.status)
            ).all()
        )
    assert set(statuses) <= {"sent", "cancelled"} and statuses.get("cancelled", 0) > 0
    assert statuses["sent"] == count(engine, SandboxOutbox, cid) > held
    assert (final.counters.sent, final.counters.cancelled) == (
        statuses["sent"],
        statuses["cancelled"],
    )
