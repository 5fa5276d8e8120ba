"""Pause, resume and cancel carry who sent them: the workflow audits each under that name when
it arrives, and the cancellation it ends with under the canceller (not `system`). A signal sent
with no name (an older CLI, `temporal workflow signal`) is audited as `unidentified`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, select
from temporalio.testing import WorkflowEnvironment

from models.contracts import Phase
from models.tables import AuditEntry
from orchestration.worker_setup import build_worker
from tests.workflows.test_campaign_workflow import start, until_phase
from workflows.campaign import CampaignWorkflow


@pytest.fixture
async def queue(
    skipping_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> AsyncIterator[str]:
    async with build_worker(skipping_env.client, task_queue):
        yield task_queue


def audited(engine: Engine, cid: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (actor, action)
            for actor, action in conn.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.campaign_id == cid)
                .order_by(AuditEntry.id)
            ).all()
        ]


async def test_controls_are_audited_under_who_sent_them(
    skipping_env: WorkflowEnvironment, queue: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, queue)
    cid = (await until_phase(handle, Phase.AWAITING_APPROVAL)).campaign_id
    await handle.signal(CampaignWorkflow.pause, "王芳")
    await handle.signal(CampaignWorkflow.resume, "王芳")
    await handle.signal("pause")  # no name: an older client or the Temporal CLI
    await handle.signal(CampaignWorkflow.cancel, "赵强")
    final = await handle.result()
    assert final.phase == Phase.CANCELLED
    assert final.detail == "cancelled while awaiting budget approval, by 赵强"
    rows = audited(seeded, cid)
    assert rows[0] == ("王芳", "campaign.started")
    # Each signal's entry is written by its own activity: the order of ids may differ from
    # the order of arrival (their `at` is the arrival), the set may not.
    assert sorted(rows[1:]) == sorted(
        [
            ("王芳", "campaign.pause"),
            ("王芳", "campaign.resume"),
            ("unidentified", "campaign.pause"),
            ("赵强", "campaign.cancel"),
            ("赵强", "campaign.cancelled"),
        ]
    )
