"""Open pixel and click redirect: signed links, the right send, no open redirect."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from db.engine import session_scope
from engagement.links import (
    BadLink,
    click_token,
    click_url,
    open_pixel_url,
    open_token,
    read_click_token,
)
from engagement.service import create_app
from engagement.summary import engagement_by_channel
from engagement.tracking import PIXEL
from models.engagement_tables import MessageEvent
from tests.engagement.kit import event_total, events_of, make_campaign, make_send
from tests.governance.dbkit import make_customer

TARGET = "https://shop.example.com/spring?utm_source=email&coupon=A8"


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, environ={}), follow_redirects=False) as c:
        yield c


@pytest.fixture
def send_id(engine: Engine) -> int:
    with session_scope(engine) as s:
        return make_send(s, make_campaign(s), make_customer(s).id, "email").id


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_open_pixel_records_the_first_open_of_the_send(
    engine: Engine, client: TestClient, send_id: int
) -> None:
    url = open_pixel_url(send_id)
    for _ in range(3):
        r = client.get(_path(url))
        assert r.status_code == 200 and r.content == PIXEL
        assert r.headers["content-type"] == "image/gif"
        assert "no-store" in r.headers["cache-control"] and "set-cookie" not in r.headers
    with session_scope(engine) as s:
        assert events_of(s, send_id) == ["opened"]


def test_click_redirects_to_the_signed_target_and_counts_once_per_link(
    engine: Engine, client: TestClient, send_id: int
) -> None:
    url = click_url(send_id, TARGET)
    assert parse_qs(urlsplit(url).query)["u"] == [TARGET]
    for _ in range(2):
        r = client.get(_path(url))
        assert r.status_code == 302 and r.headers["location"] == TARGET
        assert r.headers["referrer-policy"] == "no-referrer"
    client.get(_path(click_url(send_id, "https://shop.example.com/other")))
    with session_scope(engine) as s:
        assert events_of(s, send_id) == ["clicked", "clicked"]
        hosts = (
            s.execute(select(MessageEvent.detail).where(MessageEvent.planned_send_id == send_id))
            .scalars()
            .all()
        )
        campaign = (
            s.execute(
                select(MessageEvent.campaign_id).where(MessageEvent.planned_send_id == send_id)
            )
            .scalars()
            .first()
        )
        assert engagement_by_channel(s, str(campaign))["email"]["clicked"] == 1
    assert all(h == {"host": "shop.example.com"} for h in hosts)


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example.net/phish",
        "https://shop.example.com/spring?utm_source=email&coupon=FREE",
        "//evil.example.net/",
        "javascript:alert(1)",
        "",
    ],
)
def test_open_redirect_attempts_are_refused(
    engine: Engine, client: TestClient, send_id: int, evil: str
) -> None:
    token = click_token(send_id, TARGET)
    with session_scope(engine) as s:
        before = event_total(s)
    r = client.get(f"/c/{token}", params={"u": evil})
    assert r.status_code == 400 and "location" not in r.headers
    with session_scope(engine) as s:
        assert event_total(s) == before


def test_forged_and_swapped_tokens_are_refused(client: TestClient, send_id: int) -> None:
    assert client.get(f"/o/{open_token(send_id)[:-2]}AA").status_code == 400
    assert client.get("/o/not-a-token").status_code == 400
    assert client.get("/o/" + "A" * 500).status_code == 400
    # a valid open token is not a click token, and one send's token is not another's
    assert client.get(f"/c/{open_token(send_id)}", params={"u": TARGET}).status_code == 400
    raw = base64.urlsafe_b64decode(click_token(send_id, TARGET) + "==")
    moved = str(send_id + 1).encode() + raw[len(str(send_id)) :]
    swapped = base64.urlsafe_b64encode(moved).decode().rstrip("=")
    with pytest.raises(BadLink):
        read_click_token(swapped, TARGET)
    assert client.get(f"/c/{swapped}", params={"u": TARGET}).status_code == 400


def test_targets_must_be_plain_web_urls() -> None:
    for bad in (
        "javascript:alert(1)",
        "ftp://x.example/",
        "https://",
        "https://a b.example/",
        "https://x.example/\\evil",
        "data:text/html,hi",
    ):
        with pytest.raises(BadLink):
            click_url(1, bad)
