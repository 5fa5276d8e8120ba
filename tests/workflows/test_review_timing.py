"""The review waits for the attribution window, reports before it are "so far", and the
stored review agrees with `status` (time-skipping server, real activities, PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from temporalio.testing import WorkflowEnvironment

from models.contracts import Phase
from models.tables import CampaignReport, Delivery
from tests.conftest import ROOT
from tests.people import decide
from tests.workflows.test_campaign_workflow import start, until_phase, worker  # noqa: F401
from workflows.campaign import CampaignWorkflow


def report_json(engine: Engine, campaign_id: str) -> dict[str, Any]:
    url = engine.url.render_as_string(hide_password=False)
    out = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "report", campaign_id, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=dict(os.environ, DATABASE_URL=url),
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def review_lag(engine: Engine, campaign_id: str) -> timedelta:
    """From the last send to the stored review."""
    with engine.connect() as conn:
        last: datetime = conn.execute(
            select(func.max(Delivery.sent_at)).where(Delivery.campaign_id == campaign_id)
        ).scalar_one()
        reviewed: datetime = conn.execute(
            select(CampaignReport.created_at).where(
                CampaignReport.campaign_id == campaign_id, CampaignReport.kind == "review"
            )
        ).scalar_one()
    return reviewed - last


async def test_the_review_waits_for_the_attribution_window_and_agrees_with_status(
    skipping_env: WorkflowEnvironment,
    worker: str,  # noqa: F811
    seeded: Engine,
) -> None:
    handle = await start(skipping_env, worker, review={"delay": "2m", "attribution_window": "2d"})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    await skipping_env.sleep(timedelta(minutes=30))  # past the send window, not the review
    waiting = await until_phase(handle, Phase.AWAITING_REVIEW)
    early = report_json(seeded, waiting.campaign_id)
    assert early["final"] is False and early["phase"] == "awaiting_review"
    assert early["total"]["sent"] == waiting.counters.sent > 0
    assert all(k["met"] is None for k in early["kpi"].values())

    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    assert timedelta(days=2) <= review_lag(seeded, final.campaign_id) < timedelta(days=2, hours=1)
    stored = report_json(seeded, final.campaign_id)
    status = await handle.query(CampaignWorkflow.status)
    assert stored["final"] is True and stored["phase"] == status.phase.value == "completed"


async def test_a_delay_longer_than_the_window_still_decides(
    skipping_env: WorkflowEnvironment,
    worker: str,  # noqa: F811
    seeded: Engine,
) -> None:
    handle = await start(skipping_env, worker, review={"delay": "3d", "attribution_window": "1h"})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert timedelta(days=3) <= review_lag(seeded, final.campaign_id) < timedelta(days=3, hours=1)
