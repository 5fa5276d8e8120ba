"""CN-27 in a running campaign: without an approved impact assessment a segmented campaign is
held for a compliance officer after approval and sends nothing; one citing an assessment the
officer recorded runs straight through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from db.engine import session_scope
from governance.pia import KIND, record_assessment
from governance.signing import sign
from models.contracts import Phase
from orchestration.worker_setup import build_worker
from tests.people import KEYS, decide
from tests.workflows.test_campaign_workflow import start, until_phase
from workflows.campaign import CampaignWorkflow

EVERYONE = {"lifecycle": ["new", "active", "at_risk", "dormant", "churned"]}


@pytest.fixture
async def worker(
    skipping_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> AsyncIterator[str]:
    async with build_worker(skipping_env.client, task_queue):
        yield task_queue


async def test_segmented_campaign_is_held_without_an_assessment(
    skipping_env: WorkflowEnvironment,
    worker: str,
    seeded: Engine,
) -> None:
    handle = await start(skipping_env, worker, audience=EVERYONE)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    await until_phase(handle, Phase.COMPLIANCE_CHECK)
    for _ in range(100):
        held = await handle.query(CampaignWorkflow.status)
        if "awaiting compliance review" in held.detail:
            break
        await asyncio.sleep(0.1)
    assert "CN-27" in held.detail and held.counters.sent == 0
    await decide(handle, "compliance_reject", by="陈静", comment="先做影响评估")
    final = await handle.result()
    assert final.phase == Phase.COMPLIANCE_FAILED and final.counters.sent == 0


async def test_citing_an_approved_assessment_runs_through(
    skipping_env: WorkflowEnvironment,
    worker: str,
    seeded: Engine,
) -> None:
    now = datetime.now(UTC)
    with session_scope(seeded) as s:
        signed = sign(KEYS["陈静"], kind=KIND, subject="PIA-WF-001", by="陈静", at=now)
        record_assessment(
            s,
            signed,
            pia_id="PIA-WF-001",
            title="会员分层",
            scope="lifecycle",
            valid_until=None,
            at=now,
        )
    handle = await start(skipping_env, worker, audience=EVERYONE, pia="PIA-WF-001")
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED and final.counters.sent > 0
