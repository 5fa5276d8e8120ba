"""On a Temporal server without the campaign search attributes: `start` refuses in one line
that names all of them and the command; a worker creates them where the server allows (a dev
server) and, where it refuses, logs that same command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from orchestration.search_attributes import missing_search_attributes, search_attributes_on_start
from privacy.codec import data_converter
from tests.workflows.cli_process import cli, cli_env, spec_file

BIN = Path(sys.executable).parent
NAMES = "--name CampaignPhase --name CampaignObjective --name CampaignOwner --type Keyword"


@pytest.fixture(scope="module")
async def bare_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server as `temporal server start-dev` gives it: no campaign attributes."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


async def test_start_names_every_missing_attribute_and_the_worker_creates_them(
    bare_env: WorkflowEnvironment, seeded: Engine, task_queue: str, tmp_path: Path
) -> None:
    address = bare_env.client.service_client.config.target_host
    env = cli_env(bare_env, seeded, task_queue)
    spec = str(spec_file(tmp_path))
    refused = await cli(env, "start", spec, "--as", "王芳")
    assert refused.code == 1
    assert refused.err.count("\n") == 1 and refused.err.startswith("error: "), refused.err
    assert (
        "lacks the search attributes CampaignPhase, CampaignObjective, CampaignOwner" in refused.err
    )
    assert (
        f"temporal operator search-attribute create --address {address} --namespace default {NAMES}"
    ) in refused.err

    ready, line = await search_attributes_on_start(bare_env.client, address, "no-such-namespace")
    assert not ready
    assert f"--namespace no-such-namespace {NAMES}" in line

    ready, line = await search_attributes_on_start(bare_env.client, address, "default")
    assert ready and line.startswith("created search attributes CampaignPhase, ")
    assert await missing_search_attributes(bare_env.client, "default") == []
    assert (await search_attributes_on_start(bare_env.client, address, "default"))[1] == (
        "search attributes present on namespace default"
    )
    for _ in range(20):  # the frontend's cache of the namespace's attributes catches up
        started = await cli(env, "start", spec, "--as", "王芳")
        if started.code == 0:
            break
        await asyncio.sleep(0.5)
    assert started.code == 0, started.err
