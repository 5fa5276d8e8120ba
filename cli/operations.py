"""What the CLI asks of Temporal: start campaigns, deliver decisions and signals, query status."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from cli.errors import OperatorError
from models.contracts import TERMINAL, CampaignInput, CampaignStatus, Decision
from models.search_attributes import at_start
from models.spec import CampaignSpec
from orchestration.search_attributes import create_command, missing_search_attributes
from orchestration.task_queue import no_worker_hint
from settings import Settings
from workflows.campaign import CampaignWorkflow, workflow_id

# A query needs a worker to answer it; without one the server would keep it waiting.
QUERY_TIMEOUT = timedelta(seconds=5)


class NoWorkerAnswered(OperatorError):
    """The workflow's status query timed out: no worker serves its task queue."""


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
    try:
        await _start(client, settings, spec, requested_by, campaign_id)
    except RPCError as err:
        if "search attribute" not in err.message.lower():
            raise
        await _refuse_missing_attributes(client, settings, err)
    return campaign_id


async def _refuse_missing_attributes(client: Client, settings: Settings, err: RPCError) -> None:
    """One line naming every attribute the namespace lacks and the command that adds them."""
    ns = settings.temporal_namespace
    try:
        missing = await missing_search_attributes(client, ns)
    except RPCError:
        missing = []
    if not missing:
        raise OperatorError(f"Temporal refused the campaign: {err.message}") from None
    raise OperatorError(
        f"namespace {ns} lacks the search attributes {', '.join(missing)}: run "
        f"`{create_command(settings.temporal_address, ns, missing)}` (or start a worker, "
        "which creates them where the server allows)"
    ) from None


async def _start(
    client: Client, settings: Settings, spec: CampaignSpec, requested_by: str, campaign_id: str
) -> None:
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
        # the Temporal UI shows the memo (decoded by the codec server): no customer data in it
        memo={"name": spec.name, "owner": spec.owner},
        search_attributes=at_start(spec.objective, spec.owner),
    )


Handle = WorkflowHandle[CampaignWorkflow, CampaignStatus]


async def _handle(client: Client, campaign_id: str) -> tuple[Handle, str]:
    """The campaign's workflow and its task queue; refused if Temporal has no such campaign."""
    handle: Handle = client.get_workflow_handle(
        workflow_id(campaign_id), result_type=CampaignStatus
    )
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OperatorError(f"no campaign with id {campaign_id!r}") from None
        raise
    return handle, described.task_queue


async def _query(handle: Handle, task_queue: str) -> CampaignStatus:
    """The workflow's status, or one line saying no worker answered in time."""
    try:
        return await handle.query(CampaignWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as err:
        if err.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise
        raise NoWorkerAnswered(
            f"no worker answered within {QUERY_TIMEOUT.seconds} s; {no_worker_hint(task_queue)}"
        ) from None


async def status(client: Client, campaign_id: str) -> CampaignStatus:
    return await _query(*await _handle(client, campaign_id))


UPDATES = {
    "approve": CampaignWorkflow.approve,
    "reject": CampaignWorkflow.reject,
    "compliance_ok": CampaignWorkflow.compliance_ok,
    "compliance_reject": CampaignWorkflow.compliance_reject,
}


async def decide(client: Client, campaign_id: str, update: str, decision: Decision) -> str:
    """Deliver a decision; the workflow (validator, role and plan checks) explains any refusal."""
    handle, _ = await _handle(client, campaign_id)
    try:
        return await handle.execute_update(UPDATES[update], decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise OperatorError(f"refused: {getattr(cause, 'message', None) or cause}") from None
    except RPCError as err:
        raise OperatorError(
            f"refused: campaign {campaign_id} is no longer running ({err.message})"
        ) from None


SIGNALS = {
    "pause": CampaignWorkflow.pause,
    "resume": CampaignWorkflow.resume,
    "cancel": CampaignWorkflow.cancel,
}


async def signal(client: Client, campaign_id: str, name: str, by: str) -> CampaignStatus:
    """pause / resume / cancel as `by` (the workflow audits it); refused for a campaign that
    has already finished."""
    handle, task_queue = await _handle(client, campaign_id)
    current = await _query(handle, task_queue)
    if current.phase in TERMINAL:
        raise OperatorError(f"campaign {campaign_id} has already finished ({current.phase.value})")
    await handle.signal(SIGNALS[name], by)
    return await _query(handle, task_queue)
