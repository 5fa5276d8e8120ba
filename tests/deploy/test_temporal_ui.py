"""What the Temporal UI shows of a campaign: its memo names the campaign and its owner, and the
codec server decodes it for a browser signed in with the codec token, for nobody else."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from google.protobuf import json_format
from starlette.testclient import TestClient
from temporalio.api.common.v1 import Payloads
from temporalio.testing import WorkflowEnvironment

from cli.operations import start_campaign
from privacy.codec_server import create_app
from settings import Settings
from tests.campaigns import spec_at
from workflows.campaign import workflow_id

TOKEN = "codec-token-for-the-ui-test"


async def test_the_memo_carries_name_and_owner_decoded_by_the_codec_server(
    dev_env: WorkflowEnvironment,
) -> None:
    spec = spec_at(datetime.now(UTC), name="双十二会员回归", owner="王芳")
    settings = Settings(task_queue=f"q-{uuid.uuid4().hex[:6]}")  # no worker: nothing runs
    cid = await start_campaign(dev_env.client, settings, spec, "李娜")
    handle = dev_env.client.get_workflow_handle(workflow_id(cid))
    try:
        description = await handle.describe()
    finally:
        await handle.terminate("test over")
    assert await description.memo() == {"name": "双十二会员回归", "owner": "王芳"}
    raw = description.raw_description.workflow_execution_info.memo.fields
    assert {p.metadata["encoding"] for p in raw.values()} == {b"binary/encrypted"}
    assert "双十二".encode() not in b"".join(p.data for p in raw.values())

    # what the UI does: POST the stored payloads to the codec server, with its sign-in cookie
    ui = TestClient(create_app(TOKEN))
    body = json_format.MessageToJson(Payloads(payloads=[raw["name"], raw["owner"]]))
    headers = {"Content-Type": "application/json", "X-Namespace": "default"}
    assert ui.post("/decode", content=body, headers=headers).status_code == 401
    assert ui.post("/session", data={"token": TOKEN}).status_code == 200
    decoded = ui.post("/decode", content=body, headers=headers)
    assert decoded.status_code == 200
    plain = json_format.Parse(decoded.text, Payloads()).payloads
    assert [json.loads(p.data) for p in plain] == ["双十二会员回归", "王芳"]
