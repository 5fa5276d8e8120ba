"""The operators' CLI as a child process, awaited without blocking the test's event loop (a
worker in the test process must keep answering the CLI's queries meanwhile)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from tests.campaigns import spec_at

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Done:
    code: int
    out: str
    err: str


def cli_env(env: WorkflowEnvironment, engine: Engine, queue: str, **extra: str) -> dict[str, str]:
    """The CLI's environment; no caps by default, as the workers of these tests (their campaigns
    share customers, so `start`'s preview would otherwise find every send capped)."""
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "OMNIREACH_TASK_QUEUE": queue,
        "OMNIREACH_CAPS_FILE": str(ROOT / "tests" / "workflows" / "no_caps.yaml"),
        **extra,
    }


async def spawn(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "starter.py"),
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, seconds: float = 90) -> Done:
    out, err = await asyncio.wait_for(proc.communicate(), seconds)
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


async def cli(env: dict[str, str], *args: str, seconds: float = 90) -> Done:
    return await finish(await spawn(env, *args), seconds)


def spec_file(folder: Path, **overrides: Any) -> Path:
    """A spec that sends app push now-ish, outside any quiet hours."""
    path = folder / "spec.json"
    spec = spec_at(datetime.now(UTC), **overrides)
    path.write_text(
        json.dumps(spec.model_dump(mode="json", by_alias=True), ensure_ascii=False),
        encoding="utf-8",
    )
    return path
