"""One way to connect to Temporal, used by the worker, the CLI and the tests."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.runtime import Runtime

from privacy.codec import data_converter
from settings import Settings


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """Connect with typed (pydantic) payloads, encrypted by the PII-safe payload codec."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(),
        runtime=runtime,
    )
