"""Registering the campaign search attributes on a Temporal namespace (idempotent)."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from models.search_attributes import ALL


async def _existing(client: Client, namespace: str) -> set[str]:
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as err:  # the time-skipping test server can add but not list
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        return set()
    return set(listed.custom_attributes)


async def ensure_search_attributes(client: Client, namespace: str = "default") -> None:
    existing = await _existing(client, namespace)
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in ALL
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
