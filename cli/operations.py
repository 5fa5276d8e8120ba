"""What the CLI asks of Temporal: start campaigns, deliver decisions and signals, query status."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from cli.errors import OperatorError
from models.contracts import TERMINAL, CampaignInput, CampaignStatus, Decision
from models.search_attributes import CAMPAIGN_OBJECTIVE, CAMPAIGN_OWNER, CAMPAIGN_PHASE
from models.spec import CampaignSpec
from settings import Settings
from workflows.campaign import CampaignWorkflow, workflow_id


def new_campaign_id(now: datetime) -> str:
    return f"cmp-{now:%Y%m%d}-{secrets.token_hex(3)}"


async def start_campaign(
    client: Client,
    settings: Settings,
    spec: CampaignSpec,
    requested_by: str,
    campaign_id: str | None = None,
) -> str:
    campaign_id = campaign_id or new_campaign_id(datetime.now(UTC))
    await client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(
            campaign_id=campaign_id,
            spec=spec,
            requested_by=requested_by,
            slot_seconds=settings.send_slot_seconds,
            send_lanes=settings.send_lanes,
            send_max_items=settings.send_max_items,
        ),
        id=workflow_id(campaign_id),
        task_queue=settings.task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CAMPAIGN_PHASE, "research"),
                SearchAttributePair(CAMPAIGN_OBJECTIVE, spec.objective),
                SearchAttributePair(CAMPAIGN_OWNER, spec.owner),
            ]
        ),
    )
    return campaign_id


async def _handle(
    client: Client, campaign_id: str
) -> WorkflowHandle[CampaignWorkflow, CampaignStatus]:
    handle = client.get_workflow_handle_for(CampaignWorkflow.run, workflow_id(campaign_id))
    try:
        await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OperatorError(f"no campaign with id {campaign_id!r}") from None
        raise
    return handle


async def status(client: Client, campaign_id: str) -> CampaignStatus:
    handle = await _handle(client, campaign_id)
    return await handle.query(CampaignWorkflow.status)


UPDATES = {
    "approve": CampaignWorkflow.approve,
    "reject": CampaignWorkflow.reject,
    "compliance_ok": CampaignWorkflow.compliance_ok,
    "compliance_reject": CampaignWorkflow.compliance_reject,
}


async def decide(client: Client, campaign_id: str, update: str, decision: Decision) -> str:
    """Deliver a decision; the workflow (validator, role and plan checks) explains any refusal."""
    handle = await _handle(client, campaign_id)
    try:
        return await handle.execute_update(UPDATES[update], decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise OperatorError(f"refused: {getattr(cause, 'message', None) or cause}") from None
    except RPCError as err:
        raise OperatorError(
            f"refused: campaign {campaign_id} is no longer running ({err.message})"
        ) from None


async def signal(client: Client, campaign_id: str, name: str) -> CampaignStatus:
    """pause / resume / cancel; refused for a campaign that has already finished."""
    handle = await _handle(client, campaign_id)
    current = await handle.query(CampaignWorkflow.status)
    if current.phase in TERMINAL:
        raise OperatorError(f"campaign {campaign_id} has already finished ({current.phase.value})")
    await handle.signal(name)
    return await handle.query(CampaignWorkflow.status)
