"""Recurring campaigns against a real Temporal dev server and PostgreSQL, through the CLI an
operator uses: a series is a real Temporal Schedule, approved once (never by its requester);
each run it starts (triggered here instead of waiting for cron) is a campaign of its own that
does not wait for a person but passes the compliance check, within the per-run budget and
what is left of the total; a changed series runs again only once approved again."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.client import ScheduleCalendarSpec, ScheduleHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from governance.signing import private_pem
from models.contracts import CampaignStatus, Phase
from models.series_tables import SeriesRun
from models.tables import AuditEntry, Campaign, SandboxOutbox
from orchestration.series_schedule import schedule_id
from orchestration.worker_setup import build_worker
from privacy.codec import data_converter
from tests.campaigns import spec_at
from tests.people import KEYS
from tests.workflows.cli_process import Done, cli, cli_env
from tests.workflows.test_campaign_workflow import until_phase
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.series_run import SeriesRunWorkflow

PUSH = "{{ honorific }}，{{ home_store }}会员日礼券已到账，{{ end_time }}前有效。"  # from spec_at


def series_spec(folder: Path, *, body: str = PUSH, name: str = "spec.json") -> Path:
    """App push at 0.05 a send: 1.00 a run buys 20 sends, the total 1.50 buys 30."""
    now = datetime.now(UTC)
    spec = spec_at(
        now,
        channels=[
            {
                "channel": "app_push",
                "template": "t-push",
                "body": body,
                "unit_cost": "0.05",
            }
        ],
        send_window={"start": now, "end": now + timedelta(seconds=20)},
        budget={"limit": "1.00"},
        schedule={"cron": "0 10 * * MON", "timezone": "Asia/Shanghai", "total_budget": "1.50"},
    )
    path = folder / name
    path.write_text(json.dumps(spec.model_dump(mode="json")), encoding="utf-8")
    return path


def keys(folder: Path) -> dict[str, str]:
    paths = {}
    for person in ("李娜", "王芳"):
        path = folder / f"{person}.pem"
        path.write_bytes(private_pem(KEYS[person]))
        paths[person] = str(path)
    return paths


def ok(done: Done) -> Done:
    assert done.code == 0, done.err
    assert "Traceback" not in done.err
    return done


def refused(done: Done, message: str) -> None:
    assert done.code != 0 and message in " ".join(done.err.split()), done.err
    assert "Traceback" not in done.err


def runs(engine: Engine, sid: str) -> list[SeriesRun]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(SeriesRun).where(SeriesRun.series_id == sid).order_by(SeriesRun.id)
            )
        )


async def trigger(handle: ScheduleHandle, engine: Engine, sid: str) -> Any:
    """Start a run now, and wait until the series' ledger has it."""
    before = len(runs(engine, sid))
    await handle.trigger()
    for _ in range(300):
        found = runs(engine, sid)
        if len(found) > before:
            await asyncio.sleep(1.1)  # the next trigger gets another scheduled second
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError("the schedule started no run")


def campaign(env: WorkflowEnvironment, cid: str) -> Any:
    return env.client.get_workflow_handle(workflow_id(cid), result_type=CampaignStatus)


def audited(engine: Engine, cid: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.scalars(select(AuditEntry.action).where(AuditEntry.campaign_id == cid)).all()
        )


def spent_and_sent(engine: Engine, cid: str) -> tuple[Decimal, int]:
    with engine.connect() as conn:
        spent = conn.scalar(select(Campaign.spent).where(Campaign.id == cid))
        sent = len(
            conn.scalars(select(SandboxOutbox.id).where(SandboxOutbox.campaign_id == cid)).all()
        )
    assert spent is not None
    return spent, sent


async def test_a_series_is_approved_once_and_runs_within_its_budgets(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str, tmp_path: Path
) -> None:
    env = cli_env(dev_env, seeded, task_queue, OMNIREACH_SEND_SLOT_SECONDS="2")
    key = keys(tmp_path)
    sid = f"weekly-{task_queue}"
    started = ok(await cli(env, "start", str(series_spec(tmp_path)), "--as", "王芳", "--id", sid))
    assert started.out.strip() == sid
    assert "created" in started.err and "awaiting approval (0 of 1)" in started.err
    handle = dev_env.client.get_schedule_handle(schedule_id(sid))
    described = await handle.describe()
    assert described.schedule.state.paused
    assert described.schedule.spec.cron_expressions == [] or described.schedule.spec.calendars
    assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
    calendar = described.schedule.spec.calendars[0]
    assert isinstance(calendar, ScheduleCalendarSpec)
    assert [r.start for r in calendar.hour] == [10] and [r.start for r in calendar.day_of_week] == [
        1
    ]

    async with build_worker(dev_env.client, task_queue):
        # Not approved: unpausing is refused, and a run started anyway (from the Temporal UI,
        # say) starts no campaign.
        refused(
            await cli(env, "schedules", "unpause", sid, "--as", "王芳"),
            f"refused: series {sid} is awaiting approval (0 of 1); it runs once approved",
        )
        await handle.unpause()
        early = await trigger(handle, seeded, sid)
        assert early.campaign_id is None and "is not approved" in early.detail
        await handle.pause()

        refused(
            await cli(env, "approve", sid, "--as", "王芳", "--key", key["王芳"]),
            f"王芳 requested campaign {sid} and cannot approve it",
        )
        approved = ok(await cli(env, "approve", sid, "--as", "李娜", "--key", key["李娜"]))
        assert f"series {sid} approved by 李娜" in approved.out
        assert not (await handle.describe()).schedule.state.paused

        first = await trigger(handle, seeded, sid)
        second = await trigger(handle, seeded, sid)
        third = await trigger(handle, seeded, sid)
        assert first.campaign_id and first.budget == Decimal("1.00")
        # the first run may still spend its whole budget: the second gets what is left
        assert second.campaign_id and second.budget == Decimal("0.50")
        assert third.campaign_id is None and "used its total budget 1.5000" in third.detail
        assert first.campaign_id != second.campaign_id
        assert first.campaign_id.startswith(f"{sid}-")

        for run, sends in ((first, 20), (second, 10)):
            assert run.campaign_id is not None
            await until_phase(campaign(dev_env, run.campaign_id), Phase.AWAITING_REVIEW, 120)
            spent, sent = spent_and_sent(seeded, run.campaign_id)
            assert (spent, sent) == (run.budget, sends)
            assert "compliance.checked" in audited(seeded, run.campaign_id)
            history = await campaign(dev_env, run.campaign_id).fetch_history()
            scheduled = [
                e.activity_task_scheduled_event_attributes.activity_type.name
                for e in history.events
                if e.HasField("activity_task_scheduled_event_attributes")
            ]
            assert "check_compliance" in scheduled and "send_due" in scheduled
            # no person was asked: no update reached the run
            assert not any(
                e.HasField("workflow_execution_update_accepted_event_attributes")
                for e in history.events
            )

        listed = json.loads(ok(await cli(env, "schedules", "list", "--json")).out)
        row = next(r for r in listed if r["series"] == sid)
        assert row["cron"] == "0 10 * * MON" and row["timezone"] == "Asia/Shanghai"
        assert (row["runs"], row["spent"], row["total_budget"]) == (2, "1.5000", "1.5000")
        assert row["paused"] is False and row["approval"] == "approved"
        next_run = datetime.fromisoformat(row["next_run"])
        assert next_run.astimezone(UTC).hour == 2 and next_run.weekday() == 0  # 10:00 +08:00

        ok(await cli(env, "schedules", "pause", sid, "--as", "王芳"))
        assert (await handle.describe()).schedule.state.paused
        shown = ok(await cli(env, "schedules", "list")).out
        assert sid in shown and "paused" in shown and "runs 2  spent 1.5000 of 1.5000" in shown
        ok(await cli(env, "schedules", "unpause", sid, "--as", "王芳"))
        assert not (await handle.describe()).schedule.state.paused

        ok(await cli(env, "schedules", "delete", sid, "--as", "王芳", "--yes"))
        with pytest.raises(RPCError) as gone:
            await handle.describe()
        assert gone.value.status == RPCStatusCode.NOT_FOUND
        refused(
            await cli(env, "schedules", "pause", sid, "--as", "王芳"), f"no series with id '{sid}'"
        )
        listed = json.loads(ok(await cli(env, "schedules", "list", "--json")).out)
        assert all(r["series"] != sid for r in listed)

        # the runs' histories replay on this code
        assert first.campaign_id is not None
        replayer = Replayer(
            workflows=[SeriesRunWorkflow, CampaignWorkflow], data_converter=data_converter()
        )
        await replayer.replay_workflow(await campaign(dev_env, first.campaign_id).fetch_history())
        async for wf in dev_env.client.list_workflows("WorkflowType = 'SeriesRunWorkflow'"):
            if wf.id.startswith(f"series-run-{sid}-"):
                history = await dev_env.client.get_workflow_handle(wf.id).fetch_history()
                await replayer.replay_workflow(history)
        for run in (first, second):
            assert run.campaign_id is not None
            await campaign(dev_env, run.campaign_id).cancel()


async def test_a_changed_series_runs_again_only_once_approved_again(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str, tmp_path: Path
) -> None:
    env = cli_env(dev_env, seeded, task_queue, OMNIREACH_SEND_SLOT_SECONDS="2")
    key = keys(tmp_path)
    sid = f"change-{task_queue}"
    ok(await cli(env, "start", str(series_spec(tmp_path)), "--as", "王芳", "--id", sid))
    ok(await cli(env, "approve", sid, "--as", "李娜", "--key", key["李娜"]))
    handle = dev_env.client.get_schedule_handle(schedule_id(sid))
    assert not (await handle.describe()).schedule.state.paused

    again = ok(await cli(env, "start", str(series_spec(tmp_path)), "--as", "王芳", "--id", sid))
    assert "unchanged" in again.err and "approved" in again.err
    new_body = PUSH.replace("会员日礼券", "周末礼券")
    changed = ok(
        await cli(
            env, "start", str(series_spec(tmp_path, body=new_body)), "--as", "王芳", "--id", sid
        )
    )
    assert "changed" in changed.err and "awaiting approval (0 of 1)" in changed.err
    assert (await handle.describe()).schedule.state.paused

    async with build_worker(dev_env.client, task_queue):
        await handle.unpause()  # as someone might in the Temporal UI
        refusal = await trigger(handle, seeded, sid)
        assert refusal.campaign_id is None
        assert "is not approved (it changed since)" in refusal.detail
        refused(
            await cli(env, "schedules", "unpause", sid, "--as", "王芳"),
            "is awaiting approval (0 of 1)",
        )
        ok(await cli(env, "approve", sid, "--as", "李娜", "--key", key["李娜"]))
        run = await trigger(handle, seeded, sid)
        assert run.campaign_id is not None
        await until_phase(campaign(dev_env, run.campaign_id), Phase.AWAITING_REVIEW, 120)
        with seeded.connect() as conn:
            spec = conn.scalar(select(Campaign.spec).where(Campaign.id == run.campaign_id))
        assert spec is not None and spec["channels"][0]["body"] == new_body
        await campaign(dev_env, run.campaign_id).cancel()

    # a schedule deleted in Temporal (not with `schedules delete`): one line, and starting the
    # same spec again recreates it as it was (approved: running)
    await handle.delete()
    refused(
        await cli(env, "schedules", "pause", sid, "--as", "王芳"),
        f"series {sid} has no schedule in Temporal (series-{sid}); start its spec again",
    )
    body = str(series_spec(tmp_path, body=new_body))
    again = ok(await cli(env, "start", body, "--as", "王芳", "--id", sid))
    assert "unchanged" in again.err
    assert not (await handle.describe()).schedule.state.paused
    await handle.delete()
