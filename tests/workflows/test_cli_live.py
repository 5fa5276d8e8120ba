"""The CLI against a real Temporal dev server and PostgreSQL, as an operator meets it.

With no worker: `start` warns, `status` gives up after 5 s with one line, `plan` and `list`
say the campaign is started but not picked up. With one: `watch` shows what the database and
the workflow say (per channel, next send, approval deadline), follows the campaign live until it
ends, and pause, resume and cancel are audited under the name given."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from temporalio.testing import WorkflowEnvironment

from models.contracts import CampaignStatus, Phase
from models.tables import AuditEntry, Campaign, PlannedSend
from orchestration.worker_setup import build_worker
from tests.workflows.cli_process import cli, cli_env, finish, spawn, spec_file
from tests.workflows.test_campaign_workflow import until_phase
from workflows.campaign import workflow_id


async def test_with_no_worker_every_command_says_so(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str, tmp_path: Path
) -> None:
    env = cli_env(dev_env, seeded, task_queue)
    spec = spec_file(tmp_path)
    started = await cli(env, "start", str(spec), "--as", "王芳")
    assert started.code == 0, started.err
    cid = started.out.strip()
    hint = f"is `python worker.py` running for task queue {task_queue}?"
    assert (
        f"warning: no worker polls task queue {task_queue}" in started.err and hint in started.err
    )

    clock = time.monotonic()
    status = await cli(env, "status", cid)
    assert status.code == 1 and time.monotonic() - clock < 30
    assert status.err.strip() == f"error: no worker answered within 5 s; {hint}"

    plan = await cli(env, "plan", cid)
    assert plan.code == 1 and "no campaign with id" not in plan.err
    assert f"campaign {cid} is started but no worker has picked it up yet" in plan.err
    assert hint in plan.err

    for _ in range(20):  # the dev server's visibility lags a start by a moment
        listed = json.loads((await cli(env, "list", "--json")).out)
        if any(row["id"] == cid for row in listed):
            break
        await asyncio.sleep(0.5)
    row = next(row for row in listed if row["id"] == cid)
    assert row["phase"] == "waiting_for_worker" and row["owner"] == "王芳"

    async with build_worker(dev_env.client, task_queue):
        again = await cli(env, "start", str(spec), "--as", "王芳")
        assert again.code == 0 and "no worker polls" not in again.err, again.err
        handle = dev_env.client.get_workflow_handle(workflow_id(cid), result_type=CampaignStatus)
        await until_phase(handle, Phase.AWAITING_APPROVAL)
        answered = await cli(env, "status", cid, "--json")
        assert json.loads(answered.out)["phase"] == "awaiting_approval"
        for done in (cid, again.out.strip()):
            assert (await cli(env, "cancel", done, "--as", "王芳")).code == 0


async def test_watch_shows_progress_and_controls_are_audited(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str, tmp_path: Path
) -> None:
    env = cli_env(dev_env, seeded, task_queue, OMNIREACH_ACTOR="王芳")
    async with build_worker(dev_env.client, task_queue):
        started = await cli(env, "start", str(spec_file(tmp_path)))
        assert started.code == 0, started.err
        cid = started.out.strip()
        handle = dev_env.client.get_workflow_handle(workflow_id(cid), result_type=CampaignStatus)
        await until_phase(handle, Phase.AWAITING_APPROVAL)

        snap = json.loads((await cli(env, "watch", cid, "--once", "--json")).out)
        with seeded.connect() as conn:
            planned = dict(
                conn.execute(
                    select(PlannedSend.channel, func.count())
                    .where(PlannedSend.campaign_id == cid)
                    .group_by(PlannedSend.channel)
                ).all()
            )
            first = conn.execute(
                select(func.min(PlannedSend.scheduled_at)).where(PlannedSend.campaign_id == cid)
            ).scalar_one()
            entered = conn.execute(
                select(Campaign.updated_at).where(Campaign.id == cid)
            ).scalar_one()
        assert snap["phase"] == "awaiting_approval" and planned
        assert {ch: line["planned"] for ch, line in snap["channels"].items()} == planned
        assert {ch: line["pending"] for ch, line in snap["channels"].items()} == planned
        assert snap["counters"]["planned"] == sum(planned.values())
        assert datetime.fromisoformat(snap["next_send_at"]) == first
        assert snap["approval"] == {
            "approvers": [],
            "requested_by": "王芳",
            "approved_by": [],
            "approvals_needed": 1,
            "deadline": (entered + timedelta(hours=1)).isoformat(),
        }
        text = await cli(env, "watch", cid, "--once")
        assert "awaiting approval by any approver but 王芳" in text.out
        assert "app_push" in text.out and "Traceback" not in text.err

        live = await spawn(env, "watch", cid, "--every", "0.5")
        for action, who in (("pause", "赵强"), ("resume", "赵强"), ("cancel", "李娜")):
            done = await cli(env, action, cid, "--as", who)
            assert done.code == 0, done.err
        assert (await handle.result()).phase == Phase.CANCELLED
        watched = await finish(live, 30)  # ends by itself at the final phase
        assert watched.code == 0 and "cancelled" in watched.out, watched.err
    with seeded.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.campaign_id == cid)
        ).all()
    assert sorted(map(tuple, rows)) == sorted(
        [
            ("王芳", "campaign.started"),
            ("赵强", "campaign.pause"),
            ("赵强", "campaign.resume"),
            ("李娜", "campaign.cancel"),
            ("李娜", "campaign.cancelled"),
        ]
    )
