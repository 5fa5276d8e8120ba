"""The Alipay emulator and adapter checked by Alipay's own Python SDK (alipay-sdk-python).

The SDK builds, signs and parses; only its socket is replaced. Its `do_post` cannot reach a
local emulator: `get_http_connection` adds the URL's int port to a str (TypeError) and always
connects to port 80 or 443. So `do_post` is swapped for one that sends the same URL, query
string, headers and body with httpx; everything else is the SDK's code.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from alipay.aop.api import DefaultAlipayClient as sdk_client
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.domain.AlipayOpenAppMiniTemplatemessageSendModel import (
    AlipayOpenAppMiniTemplatemessageSendModel,
)
from alipay.aop.api.exception.Exception import ResponseException
from alipay.aop.api.request.AlipayOpenAppMiniTemplatemessageSendRequest import (
    AlipayOpenAppMiniTemplatemessageSendRequest,
)
from alipay.aop.api.response.AlipayOpenAppMiniTemplatemessageSendResponse import (
    AlipayOpenAppMiniTemplatemessageSendResponse,
)
from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa
from alipay.aop.api.util.WebUtils import url_encode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rsa import VerificationError

from channels.alipay import AlipayChannel, AlipaySettings
from channels.base import Outcome
from emulators.alipay import AlipayEmulator
from tests.channels.conftest import message

APP_ID = "2021000123456789"
TEMPLATE = "MDI4YzIxMDE2M2I5YTQzYjUxNWE4MjA4NmU1MTIyYmM="
USER = "2088102122458832"
APP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
GATEWAY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pkcs1_body(key: rsa.RSAPrivateKey) -> str:
    """The app private key as the SDK takes it: PKCS#1 base64 without the PEM markers."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def public_b64(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def emu() -> AlipayEmulator:
    return AlipayEmulator(
        app_id=APP_ID,
        app_public_key=APP_KEY.public_key(),
        templates={TEMPLATE: ["keyword1", "keyword2"]},
        gateway_key=GATEWAY_KEY,
    )


@pytest.fixture
def sent_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, str]]]:
    """Route the SDK's POST through httpx; the SDK's clock reads Beijing time, as on a
    merchant's server in China (its timestamps are local time, the gateway's are UTC+8)."""
    queries: list[dict[str, str]] = []

    def do_post(
        url: str,
        query_string: str,
        headers: dict[str, str],
        params: dict[str, Any],
        charset: str,
        timeout: float,
    ) -> bytes:
        queries.append(dict(parse_qsl(query_string)))
        response = httpx.post(
            f"{url}?{query_string}",
            content=url_encode(params, charset).encode(charset),
            headers=headers,
            timeout=timeout,
        )
        if response.status_code != 200:
            raise ResponseException(f"invalid http status {response.status_code}")
        return response.content

    monkeypatch.setattr(sdk_client, "do_post", do_post)
    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield queries
    monkeypatch.undo()
    time.tzset()


def sdk(
    url: str, app_key: rsa.RSAPrivateKey = APP_KEY, gateway: rsa.RSAPrivateKey = GATEWAY_KEY
) -> Any:
    config = AlipayClientConfig()
    config.server_url = f"{url}/gateway.do"
    config.app_id = APP_ID
    config.app_private_key = pkcs1_body(app_key)
    config.alipay_public_key = public_b64(gateway)
    return sdk_client.DefaultAlipayClient(alipay_client_config=config)


def send_request() -> AlipayOpenAppMiniTemplatemessageSendRequest:
    model = AlipayOpenAppMiniTemplatemessageSendModel()
    model.to_user_id = USER
    model.form_id = "2017010100000000580012345678"
    model.user_template_id = TEMPLATE
    model.page = "pages/index/index"
    model.data = '{"keyword1":{"value":"12:00"},"keyword2":{"value":"会员日"}}'
    return AlipayOpenAppMiniTemplatemessageSendRequest(biz_model=model)


def parse(text: str) -> AlipayOpenAppMiniTemplatemessageSendResponse:
    response = AlipayOpenAppMiniTemplatemessageSendResponse()
    response.parse_response_content(text)
    return response


def test_sdk_request_is_accepted_and_the_signed_reply_verifies(
    emu: AlipayEmulator, url: str, sent_queries: list[dict[str, str]]
) -> None:
    response = parse(sdk(url).execute(send_request()))
    assert response.is_success() and (response.code, response.msg) == ("10000", "Success")
    # The SDK sent the common parameters in the query string and biz_content in the body.
    assert {"app_id", "method", "sign", "timestamp"} <= sent_queries[0].keys()
    assert "biz_content" not in sent_queries[0]
    [delivery] = emu.deliveries
    assert delivery.address == USER
    assert delivery.content["data"] == {
        "keyword1": {"value": "12:00"},
        "keyword2": {"value": "会员日"},
    }


def test_wrong_app_key_gets_alipays_invalid_signature_code(
    emu: AlipayEmulator, url: str, sent_queries: list[dict[str, str]]
) -> None:
    # Alipay's SDK does not raise on a gateway error: it returns it, signed, as sub_code.
    response = parse(sdk(url, app_key=OTHER_KEY).execute(send_request()))
    assert not response.is_success()
    assert (response.code, response.sub_code) == ("40002", "isv.invalid-signature")
    assert emu.deliveries == []


class SendTwiceRequest(AlipayOpenAppMiniTemplatemessageSendRequest):
    """The SDK's request under a method name Alipay does not have."""

    def get_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_params()
        params["method"] = "alipay.open.app.mini.templatemessage.sendtwice"
        return params


def test_an_unknown_method_is_alipays_invalid_method(
    emu: AlipayEmulator,
    url: str,
    sent_queries: list[dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replies: list[bytes] = []
    post = sdk_client.do_post

    def keep_reply(*args: Any) -> bytes:
        replies.append(post(*args))
        return replies[-1]

    monkeypatch.setattr(sdk_client, "do_post", keep_reply)
    request = SendTwiceRequest(biz_model=send_request().biz_model)
    response = parse(sdk(url).execute(request))
    assert (response.code, response.sub_code) == ("40002", "isv.invalid-method")
    assert sent_queries[0]["method"].endswith(".sendtwice")
    assert replies[0].startswith(b'{"error_response":')  # signed: the SDK verified it
    assert emu.deliveries == []


def test_sdk_refuses_a_reply_signed_by_another_key(
    emu: AlipayEmulator, url: str, sent_queries: list[dict[str, str]]
) -> None:
    with pytest.raises(ResponseException, match="response sign verify failed"):
        sdk(url, gateway=OTHER_KEY).execute(send_request())


async def test_adapter_request_verifies_with_the_sdks_own_rsa2(
    emu: AlipayEmulator, url: str
) -> None:
    captured: list[httpx.Request] = []

    async def capture(request: httpx.Request) -> None:
        captured.append(request)

    settings = AlipaySettings(
        app_id=APP_ID,
        private_key=pkcs1_body(APP_KEY),
        alipay_public_key=public_b64(GATEWAY_KEY),
        gateway=f"{url}/gateway.do",
    )
    client = httpx.AsyncClient(event_hooks={"request": [capture]})
    async with AlipayChannel(settings, client=client) as channel:
        notice = message(USER, TEMPLATE, params={"form_id": "1", "keyword1": "a", "keyword2": "b"})
        [sent] = await channel.send_batch([notice])
    await client.aclose()
    assert sent.outcome is Outcome.SENT
    params = dict(parse_qsl(captured[0].content.decode()))
    sign = params.pop("sign")
    signed = get_sign_content(params).encode()
    assert verify_with_rsa(public_b64(APP_KEY), signed, sign)
    with pytest.raises(VerificationError):
        verify_with_rsa(public_b64(OTHER_KEY), signed, sign)
