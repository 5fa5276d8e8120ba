"""The track API against a PostgreSQL database built by the migrations, served by real uvicorn."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from channels.signing import signed_headers
from db.engine import session_scope
from emulators.server import serve
from tests.governance.dbkit import make_customer
from track.service import create_app
from track.sources import SOURCE_HEADER, add_source


@pytest.fixture(scope="package")
def engine(pg_engine: Engine) -> Engine:
    return pg_engine


@pytest.fixture(scope="package")
def base_url(engine: Engine) -> Iterator[str]:
    with serve(create_app(engine)) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def new_source(engine: Engine, auth: str) -> tuple[str, str]:
    """A fresh source's (name, key)."""
    name = f"shop-{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as session:
        key = add_source(session, name, auth, by="运营", at=datetime.now(UTC))
    return name, key


def customer_ref(engine: Engine) -> str:
    with session_scope(engine) as session:
        return make_customer(session).external_id


def event(ref: str, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "customer_id": ref,
        "event_type": "add_to_cart",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    return doc | fields


def body_of(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}, ensure_ascii=False).encode()


def signed(name: str, secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    return {
        SOURCE_HEADER: name,
        "Content-Type": "application/json",
        **signed_headers(secret, body, time.time() if at is None else at),
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
