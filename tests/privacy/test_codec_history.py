"""End to end: a workflow run through the encrypted data converter leaves no plaintext in
Temporal's history (inputs, activity results, results, failures), yet reads back correctly."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from privacy.codec import data_converter
from tests.privacy.conftest import make_ring

PHONE = "13812345678"
EMAIL = "zhang.wei@example.com"
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


@activity.defn
async def lookup(address: str) -> str:
    if address == "fail":
        raise ApplicationError(f"provider rejected {PHONE}", non_retryable=True)
    return f"{address} / {EMAIL}"


@workflow.defn(sandboxed=False)  # a test-only workflow; the sandbox adds nothing here
class EchoWorkflow:
    @workflow.run
    async def run(self, address: str) -> str:
        return await workflow.execute_activity(
            lookup, address, start_to_close_timeout=timedelta(seconds=10)
        )


@pytest.fixture(scope="module")
async def env():
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(make_ring("k1")),
        test_server_existing_path=str(TEST_SERVER),
    )
    yield environment
    await environment.shutdown()


async def _run(env: WorkflowEnvironment, address: str) -> tuple[str | None, bytes]:
    queue = f"codec-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[EchoWorkflow], activities=[lookup]):
        handle = await env.client.start_workflow(
            EchoWorkflow.run, address, id=f"codec-{uuid.uuid4().hex}", task_queue=queue
        )
        try:
            result: str | None = await handle.result()
        except WorkflowFailureError:
            result = None
        history = await handle.fetch_history()
    # Protobuf bytes: payload data appears raw here, so plaintext would be found as-is.
    return result, b"".join(event.SerializeToString() for event in history.events)


async def test_history_holds_no_plaintext(env: WorkflowEnvironment) -> None:
    result, history = await _run(env, PHONE)
    assert result == f"{PHONE} / {EMAIL}"
    assert PHONE.encode() not in history and EMAIL.encode() not in history
    assert b"binary/encrypted" in history and b"json/plain" not in history


async def test_failure_message_is_not_in_history(env: WorkflowEnvironment) -> None:
    result, history = await _run(env, "fail")
    assert result is None
    assert PHONE.encode() not in history
    assert b"provider rejected" not in history
    assert b"Encoded failure" in history
