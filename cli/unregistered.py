"""Campaigns Temporal has but the database has not yet: the first thing a worker does with a
new campaign is register it, so with no worker running `plan`, `report` or `list` would say
"no campaign" or show nothing. These say what is true instead."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from db.campaigns import UnknownCampaign
from models.search_attributes import CAMPAIGN_OBJECTIVE, CAMPAIGN_OWNER
from orchestration.client import connect
from orchestration.task_queue import no_worker_hint, worker_polls
from settings import Settings
from workflows.campaign import workflow_id

ASK = timedelta(seconds=5)  # Temporal is only asked to explain: never wait long on it


async def _client(settings: Settings) -> Client | None:
    try:
        return await asyncio.wait_for(connect(settings), ASK.total_seconds())
    except (RuntimeError, TimeoutError):
        return None


async def _explain(settings: Settings, campaign_id: str) -> str | None:
    client = await _client(settings)
    if client is None:
        return None
    try:
        described = await client.get_workflow_handle(workflow_id(campaign_id)).describe(
            rpc_timeout=ASK
        )
    except RPCError:
        return None
    if await worker_polls(client, settings.temporal_namespace, described.task_queue):
        return (
            f"campaign {campaign_id} is started but not registered yet (a worker polled "
            f"its task queue a moment ago): try again shortly; if this lasts, "
            f"{no_worker_hint(described.task_queue)}"
        )
    return (
        f"campaign {campaign_id} is started but no worker has picked it up yet (nothing is "
        f"in the database until one does); {no_worker_hint(described.task_queue)}"
    )


def explain_unknown(exc: UnknownCampaign, settings: Settings) -> str:
    """Why a campaign is not in the database: started with no worker, or it does not exist."""
    return asyncio.run(_explain(settings, exc.campaign_id)) or str(exc)


async def _rows(settings: Settings, known: set[str]) -> list[dict[str, Any]]:
    client = await _client(settings)
    if client is None:
        return []
    query = (
        f"WorkflowType = 'CampaignWorkflow' AND ExecutionStatus = 'Running' "
        f"AND TaskQueue = '{settings.task_queue}'"
    )
    rows = []
    try:
        async for wf in client.list_workflows(query, limit=200, rpc_timeout=ASK):
            campaign_id = wf.id.removeprefix("campaign-")
            if campaign_id in known:
                continue
            attrs = wf.typed_search_attributes
            rows.append(
                {
                    "id": campaign_id,
                    "name": "",
                    "objective": attrs.get(CAMPAIGN_OBJECTIVE) or "",
                    "owner": attrs.get(CAMPAIGN_OWNER) or "",
                    "phase": "waiting_for_worker",
                    "detail": f"started; no worker has picked it up yet: "
                    f"{no_worker_hint(settings.task_queue)}",
                    "updated_at": wf.start_time.isoformat(),
                }
            )
    except RPCError:
        return []
    return rows


def unregistered_rows(settings: Settings, known: set[str]) -> list[dict[str, Any]]:
    """`list` rows for running campaigns on this task queue that no worker has registered."""
    return asyncio.run(_rows(settings, known))
