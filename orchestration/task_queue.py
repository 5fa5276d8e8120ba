"""Whether any worker polls a task queue, from Temporal's task-queue description: a campaign
started with none waits silently, so the CLI says so at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

# A live worker's long polls last up to a minute (the server's poll expiry), so its last
# access is never older than that; the server lists a gone worker for minutes.
RECENT = timedelta(seconds=75)


async def worker_polls(client: Client, namespace: str, task_queue: str) -> bool | None:
    """True if a worker polled the queue for workflow tasks lately, False if none did, None if
    the server cannot tell."""
    try:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=5),
        )
    except RPCError:
        return None
    since = datetime.now(UTC) - RECENT
    return any(p.last_access_time.ToDatetime(tzinfo=UTC) >= since for p in described.pollers)


def no_worker_hint(task_queue: str) -> str:
    return f"is `python worker.py` running for task queue {task_queue}?"
