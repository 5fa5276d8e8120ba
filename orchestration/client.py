"""One way to connect to Temporal, used by the worker, the CLI and the tests."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from settings import Settings


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """Connect with the pydantic data converter (payloads stay typed end to end)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
