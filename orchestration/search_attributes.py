"""The campaign search attributes on a Temporal namespace: find the missing ones, create them
where the server lets us (a dev server does), and otherwise name the exact command to run."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from models.search_attributes import ALL


async def _existing(client: Client, namespace: str) -> set[str] | None:
    """The custom attributes defined; None where the server cannot list them (the
    time-skipping test server can add but not list)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        return None
    return set(listed.custom_attributes)


async def missing_search_attributes(client: Client, namespace: str) -> list[str]:
    """Every campaign attribute the namespace lacks (all of them if it cannot say)."""
    existing = await _existing(client, namespace) or set()
    return [key.name for key in ALL if key.name not in existing]


def create_command(address: str, namespace: str, names: list[str]) -> str:
    """The Temporal CLI command an operator runs to create `names` (all are keywords)."""
    flags = " ".join(f"--name {name}" for name in names)
    return (
        f"temporal operator search-attribute create --address {address} "
        f"--namespace {namespace} {flags} --type Keyword"
    )


async def ensure_search_attributes(client: Client, namespace: str = "default") -> list[str]:
    """Create the missing attributes (idempotent); returns the names created."""
    missing = await missing_search_attributes(client, namespace)
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={
                    name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in missing
                },
            )
        )
    return missing


async def search_attributes_on_start(
    client: Client, address: str, namespace: str
) -> tuple[bool, str]:
    """What a starting worker did about the attributes: (done, a log line). Never fails the
    worker: a server that refuses (a production cluster, Temporal Cloud) gets the command."""
    try:
        created = await ensure_search_attributes(client, namespace)
    except RPCError as err:
        try:
            missing = await missing_search_attributes(client, namespace)
        except RPCError:
            missing = [key.name for key in ALL]
        if not missing:
            return True, f"search attributes present on namespace {namespace}"
        return False, (
            f"could not create search attributes {', '.join(missing)} on namespace "
            f"{namespace} ({err.message}); campaigns cannot start until an operator "
            f"runs: {create_command(address, namespace, missing)}"
        )
    if created:
        return True, f"created search attributes {', '.join(created)} on namespace {namespace}"
    return True, f"search attributes present on namespace {namespace}"
