"""The in-app push-marketing opt-out lands in the consent ledger (CN-23), authenticated like the
other relayed callbacks (HMAC of the body with OMNIREACH_APP_PUSH_CALLBACK_SECRET)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from consent.ledger import current_consents, record_consent
from db.engine import session_scope
from engagement.service import create_app
from models.tables import ConsentEvent
from optout.inbound import SIGNATURE_HEADER, sign
from tests.governance.dbkit import make_customer

SECRET = "app-push-secret-0123456789"
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
URL = "/app/push-opt-out"


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    env = {"OMNIREACH_APP_PUSH_CALLBACK_SECRET": SECRET}
    with TestClient(create_app(engine, environ=env, clock=lambda: NOW)) as c:
        yield c


@pytest.fixture
def member(engine: Engine) -> tuple[int, str]:
    """A customer who granted promotional pushes in the app."""
    with session_scope(engine) as s:
        c = make_customer(s, grant=("app_push",))
        record_consent(
            s,
            customer_id=c.id,
            channel="app_push",
            purpose="push_marketing",
            granted=True,
            source="app_settings",
            wording_version="push-2025-01",
            at=datetime(2025, 2, 1, tzinfo=UTC),
        )
        return c.id, c.external_id


def post(client: TestClient, doc: object, secret: str = SECRET) -> tuple[int, dict[str, object]]:
    body = json.dumps(doc).encode()
    response = client.post(URL, content=body, headers={SIGNATURE_HEADER: sign(secret, body)})
    return response.status_code, response.json()


def push_consent(engine: Engine, customer_id: int) -> bool | None:
    with session_scope(engine) as s:
        return current_consents(s, customer_id).get(("app_push", "push_marketing"))


def test_the_opt_out_is_recorded_as_a_refusal(client, engine, member) -> None:
    cid, ext = member
    assert push_consent(engine, cid) is True
    assert post(client, {"customer_id": ext, "at": "2025-03-01T17:30:00+08:00"}) == (
        200,
        {"ok": True},
    )
    assert push_consent(engine, cid) is False
    with session_scope(engine) as s:
        event = (
            s.execute(
                select(ConsentEvent)
                .where(ConsentEvent.customer_id == cid)
                .order_by(ConsentEvent.id.desc())
            )
            .scalars()
            .first()
        )
        assert event is not None
        assert (event.source, event.recorded_at) == ("app_settings", NOW.replace(hour=9, minute=30))
        marketing = current_consents(s, cid)[("app_push", "marketing")]
    assert marketing is True  # transactional and other consents are untouched


def test_a_wrong_or_missing_signature_is_refused(client, engine, member) -> None:
    cid, ext = member
    assert post(client, {"customer_id": ext}, secret="another-secret-0123456789")[0] == 401
    response = client.post(URL, content=json.dumps({"customer_id": ext}).encode())
    assert response.status_code == 401
    assert push_consent(engine, cid) is True


@pytest.mark.parametrize(
    ("doc", "field"),
    [([], "body"), ({}, "customer_id"), ({"customer_id": "x", "at": "yesterday"}, "at")],
)
def test_bad_bodies_name_the_field(client, doc, field) -> None:
    status, body = post(client, doc)
    assert status == 400 and str(body["error"]).startswith(f"{field}:")


def test_a_time_in_the_future_is_refused(client, member) -> None:
    status, body = post(client, {"customer_id": member[1], "at": "2025-03-02T10:00:00+00:00"})
    assert status == 400 and "future" in str(body["error"])


def test_unknown_customer(client) -> None:
    assert post(client, {"customer_id": "nobody"}) == (
        404,
        {"error": "customer_id: no such customer"},
    )


def test_without_a_secret_it_is_not_served(engine) -> None:
    with TestClient(create_app(engine, environ={})) as c:
        assert c.post(URL, content=b"{}").status_code == 503
