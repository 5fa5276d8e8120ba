"""The codec endpoint: bearer token or signed-in cookie required, encode/decode round trip, CORS
for the UI."""

from __future__ import annotations

import base64
import json

import pytest
from starlette.testclient import TestClient

from privacy.codec import EncryptionCodec
from privacy.codec_server import CodecServerConfigError, create_app
from privacy.codec_signin import COOKIE
from privacy.keys import KeyRing
from tests.privacy.conftest import make_ring

TOKEN = "s3cret-codec-token-for-tests"
PHONE = "13812345678"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PLAIN = {
    "payloads": [
        {
            "metadata": {"encoding": b64(b"json/plain")},
            "data": b64(json.dumps({"phone": PHONE}).encode()),
        }
    ]
}


@pytest.fixture
def client(ring: KeyRing) -> TestClient:
    return TestClient(create_app(TOKEN, EncryptionCodec(ring)))


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_encode_then_decode_round_trip(client: TestClient) -> None:
    encoded = client.post("/encode", json=PLAIN, headers=auth())
    assert encoded.status_code == 200
    [payload] = encoded.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
    assert PHONE.encode() not in base64.b64decode(payload["data"])
    assert PHONE not in encoded.text
    decoded = client.post("/decode", json=encoded.json(), headers=auth())
    assert decoded.status_code == 200
    assert decoded.json() == PLAIN


@pytest.mark.parametrize(
    "headers",
    [
        {},
        auth("wrong-token-of-some-length"),
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ],
)
def test_token_required(client: TestClient, headers: dict[str, str]) -> None:
    encoded = client.post("/encode", json=PLAIN, headers=auth()).json()
    for path, body in (("/decode", encoded), ("/encode", PLAIN)):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert PHONE not in response.text


def test_payload_of_another_key_ring_is_422(client: TestClient) -> None:
    foreign = TestClient(create_app(TOKEN, EncryptionCodec(make_ring("k9"))))
    sealed = foreign.post("/encode", json=PLAIN, headers=auth()).json()
    response = client.post("/decode", json=sealed, headers=auth())
    assert response.status_code == 422 and "k9" in response.json()["error"]


def test_bad_bodies_are_clear_errors(client: TestClient) -> None:
    response = client.post(
        "/decode", content=b"{not json", headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "Payloads JSON" in response.json()["error"]
    response = client.post(
        "/decode", content=b"x", headers={**auth(), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


@pytest.mark.parametrize("origin", ["http://localhost:8233", "http://127.0.0.1:8233"])
def test_cors_preflight_for_the_temporal_ui(client: TestClient, origin: str) -> None:
    response = client.options(
        "/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_cors_refuses_other_origins(client: TestClient) -> None:
    response = client.options(
        "/decode",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_only_post(client: TestClient) -> None:
    assert client.get("/decode", headers=auth()).status_code == 405


@pytest.mark.parametrize("token", ["", "short"])
def test_refuses_to_start_without_a_strong_token(ring: KeyRing, token: str, monkeypatch) -> None:
    monkeypatch.delenv("OMNIREACH_CODEC_TOKEN", raising=False)
    with pytest.raises(CodecServerConfigError, match="OMNIREACH_CODEC_TOKEN"):
        create_app(token or None, EncryptionCodec(ring))


def test_token_from_environment(ring: KeyRing, monkeypatch) -> None:
    monkeypatch.setenv("OMNIREACH_CODEC_TOKEN", TOKEN)
    client = TestClient(create_app(codec=EncryptionCodec(ring)))
    assert client.post("/encode", json=PLAIN, headers=auth()).status_code == 200


def test_a_browser_signed_in_with_the_token_decodes_without_a_header(client: TestClient) -> None:
    """The Temporal UI sends cookies, not bearer tokens: sign in once, then /decode works."""
    sealed = client.post("/encode", json=PLAIN, headers=auth()).json()
    assert client.post("/decode", json=sealed).status_code == 401
    wrong = client.post("/session", data={"token": "wrong-token-of-some-length"})
    assert wrong.status_code == 401 and COOKIE not in wrong.cookies
    client.cookies.set(COOKIE, "forged-session-value")
    assert client.post("/decode", json=sealed).status_code == 401
    client.cookies.clear()
    signed = client.post("/session", data={"token": TOKEN})
    assert signed.status_code == 200
    cookie = signed.headers["set-cookie"]
    assert TOKEN not in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Signed in" in client.get("/").text
    assert client.post("/decode", json=sealed).json() == PLAIN


def test_origins_of_the_ui_from_the_environment(ring: KeyRing, monkeypatch) -> None:
    monkeypatch.setenv("OMNIREACH_CODEC_ORIGINS", "https://temporal.shop.example")
    client = TestClient(create_app(TOKEN, EncryptionCodec(ring)))
    allowed = client.options(
        "/decode",
        headers={
            "Origin": "https://temporal.shop.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert allowed.headers["access-control-allow-origin"] == "https://temporal.shop.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    local = client.options(
        "/decode",
        headers={"Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in local.headers
