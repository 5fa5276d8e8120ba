"""Alipay mini program template messages (`alipay.open.app.mini.templatemessage.send`) through
the open platform gateway, signed RSA2 (SHA256withRSA) with the app's private key. The gateway
signs its replies with Alipay's key; a reply whose `sign` does not verify with the configured
Alipay public key (`OMNIREACH_ALIPAY_PUBLIC_KEY`, or `_FILE`) is not believed, whatever it says,
and the message fails permanently with error_code `invalid_response_sign`.

Alipay wants a `form_id` (a payment's trade number or a form submission id) per message, so it
must be in `params["form_id"]`; `params["page"]` is where a tap leads; the other params fill the
template's keywords. Recipients are Alipay user ids (2088…) or, for newer apps, open ids.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Env,
    load_rsa_private_key,
    load_rsa_public_key,
)
from channels.http import (
    SettingsChannel,
    result,
    status_failure,
)

DEFAULT_GATEWAY = "https://openapi.alipay.com/gateway.do"
METHOD = "alipay.open.app.mini.templatemessage.send"
RESPONSE_KEY = METHOD.replace(".", "_") + "_response"
BEIJING = timezone(timedelta(hours=8))
_USER_ID = re.compile(r"^2088\d{12}$")
_RESERVED = {"form_id", "page"}
_JSON_SPACE = frozenset(" \t\n\r")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class AlipaySettings:
    app_id: str
    private_key: str = field(repr=False)  # PEM, or the bare base64 PKCS#8 the console shows
    alipay_public_key: str = field(repr=False)  # the gateway's, PEM or the console's base64
    gateway: str = DEFAULT_GATEWAY
    default_page: str = "pages/index/index"
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlipaySettings:
        env = Env("ALIPAY", environ)
        return cls(
            app_id=env.require("APP_ID"),
            private_key=env.secret("PRIVATE_KEY"),
            alipay_public_key=env.secret("PUBLIC_KEY"),
            gateway=env.get("GATEWAY", DEFAULT_GATEWAY),
            default_page=env.get("DEFAULT_PAGE", "pages/index/index"),
            **env.http_limits(),
        )


def sign_content(params: Mapping[str, str]) -> bytes:
    """What RSA2 signs: non-empty params except `sign`, sorted by name, as raw `k=v&…`."""
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode()


def rsa2_sign(params: Mapping[str, str], key: rsa.RSAPrivateKey) -> str:
    signature = key.sign(sign_content(params), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _JSON_SPACE:
        pos += 1
    return pos


class UnverifiedReply(ValueError):
    """The gateway's reply cannot be shown to come from Alipay."""


def json_members(text: str) -> dict[str, str]:
    """Each member of a top-level JSON object as its exact source text: the gateway signs the
    text of `<method>_response` as it sent it, which a re-serialisation would not reproduce."""
    pos = _skip_space(text, 0)
    if text[pos : pos + 1] != "{":
        raise ValueError("not a JSON object")
    members: dict[str, str] = {}
    pos = _skip_space(text, pos + 1)
    if text[pos : pos + 1] == "}":
        return members
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if not isinstance(key, str) or text[pos : pos + 1] != ":":
            raise ValueError("malformed member")
        start = _skip_space(text, pos + 1)
        _, end = _DECODER.raw_decode(text, start)
        members[key] = text[start:end]
        pos = _skip_space(text, end)
        if text[pos : pos + 1] == "}":
            return members
        if text[pos : pos + 1] != ",":
            raise ValueError("malformed object")
        pos = _skip_space(text, pos + 1)


def verified_answer(text: str, key: rsa.RSAPublicKey) -> dict[str, Any]:
    """The gateway's `<method>_response` (or `error_response`) once the `sign` beside it
    verifies (RSA2 over its exact text); UnverifiedReply says why not."""
    try:
        members = json_members(text)
    except ValueError:
        raise UnverifiedReply("the reply is not a JSON object") from None
    content = members.get(RESPONSE_KEY) or members.get("error_response")
    if content is None:
        raise UnverifiedReply(f"the reply has no {RESPONSE_KEY}")
    if "sign" not in members:
        raise UnverifiedReply("the reply is not signed")
    try:
        signature = base64.b64decode(json.loads(members["sign"]), validate=True)
        key.verify(signature, content.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        raise UnverifiedReply(
            "the reply's sign does not verify with the Alipay public key"
        ) from None
    answer = json.loads(content)
    if not isinstance(answer, dict):
        raise UnverifiedReply(f"{RESPONSE_KEY} is not an object")
    return answer


def classify(code: str, sub_code: str) -> Outcome:
    """Gateway codes: 10000 ok, 20000 service unavailable, 40005 call limited, else the
    request or the business rule is wrong (40001/40002/40004/40006…)."""
    if code == "20000" or sub_code.startswith(("isp.", "aop.")):
        return Outcome.RETRYABLE
    if code == "40005" or sub_code.endswith("call-limited"):
        return Outcome.RATE_LIMITED
    return Outcome.PERMANENT


class AlipayChannel(SettingsChannel[AlipaySettings]):
    """`Channel` for Alipay mini program template messages."""

    name = "alipay"

    def __init__(
        self,
        settings: AlipaySettings,
        *,
        name: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(settings, name=name, client=client)
        self._key = load_rsa_private_key(settings.private_key, "Alipay")
        self._gateway_key = load_rsa_public_key(
            settings.alipay_public_key, "OMNIREACH_ALIPAY_PUBLIC_KEY"
        )

    @cached_property
    def _app_params(self) -> dict[str, str]:
        return {
            "app_id": self.settings.app_id,
            "method": METHOD,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "version": "1.0",
        }

    def signed_params(self, message: OutboundMessage) -> dict[str, str]:
        recipient = "to_user_id" if _USER_ID.match(message.address) else "to_open_id"
        data = {k: {"value": v} for k, v in message.params.items() if k not in _RESERVED}
        biz = {
            recipient: message.address,
            "form_id": message.params["form_id"],
            "user_template_id": message.template,
            "page": message.params.get("page", self.settings.default_page),
            "data": json.dumps(data, ensure_ascii=False),
        }
        params = {
            **self._app_params,
            "timestamp": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "biz_content": json.dumps(biz, ensure_ascii=False),
        }
        params["sign"] = rsa2_sign(params, self._key)
        return params

    async def send_one(self, message: OutboundMessage) -> SendResult:
        if not message.params.get("form_id"):
            return result(message, Outcome.PERMANENT, error_code="missing_form_id")
        response = await self.client.post(self.settings.gateway, data=self.signed_params(message))
        if (failure := status_failure(message, response)) is not None:
            return failure
        try:
            answer = verified_answer(response.text, self._gateway_key)
        except UnverifiedReply as exc:
            return result(
                message, Outcome.PERMANENT, error_code="invalid_response_sign", detail=str(exc)
            )
        code = str(answer.get("code", ""))
        if code == "10000":
            return result(message, Outcome.SENT)
        if not code:
            return result(message, Outcome.RETRYABLE, error_code="invalid_response")
        sub_code = str(answer.get("sub_code", ""))
        return result(
            message,
            classify(code, sub_code),
            error_code=sub_code or code,
            detail=answer.get("sub_msg") or answer.get("msg"),
        )
