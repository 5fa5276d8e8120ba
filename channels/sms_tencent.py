"""Tencent Cloud SMS (API 3.0 `SendSms`, version 2021-01-11) with a TC3-HMAC-SHA256 signer.

One call carries up to 200 numbers that share a template and its parameters, so the batch is
grouped by (template, params) and chunked; each number gets its own status back. Tencent echoes
`SessionContext` in receipts: it is the message's idempotency key for a one-message call, and a
digest of the chunk's keys otherwise (the field is limited to 512 bytes). Tencent templates
are positional ({1}, {2}, …): the message's params are sent in their insertion order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.http import (
    ProviderError,
    SettingsChannel,
    bounded_map,
    json_object,
    raise_for_status_outcome,
    result,
    status_failure,
    transport_failure,
)
from channels.phones import e164

VERSION = "2021-01-11"
SERVICE = "sms"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
MAX_NUMBERS = 200
MAX_PULL = 100  # statuses per PullSmsSendStatus call
CONTENT_TYPE = "application/json; charset=utf-8"

# Legacy numeric codes (API 2.0) still appear in receipts and older accounts.
_RATE_LIMITED = {"RequestLimitExceeded", "1013", "1022", "1023", "1024", "1025", "1026"}
_OPTED_OUT = {"FailedOperation.PhoneNumberInBlacklist", "1015"}
_RETRYABLE = {"FailedOperation.InsufficientBalanceInSmsPackage", "1008", "1031", "1033"}


@dataclass(frozen=True)
class TencentSmsSettings:
    secret_id: str
    secret_key: str = field(repr=False)
    sdk_app_id: str
    sign_name: str
    region: str = "ap-guangzhou"
    endpoint: str = DEFAULT_ENDPOINT
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TencentSmsSettings:
        env = Env("TENCENT_SMS", environ)
        return cls(
            secret_id=env.require("SECRET_ID"),
            secret_key=env.require("SECRET_KEY"),
            sdk_app_id=env.require("SDK_APP_ID"),
            sign_name=env.require("SIGN_NAME"),
            region=env.get("REGION", "ap-guangzhou"),
            endpoint=env.get("ENDPOINT", DEFAULT_ENDPOINT),
            **env.http_limits(),
        )


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(
    secret_key: str,
    *,
    timestamp: int,
    service: str,
    headers: Mapping[str, str],
    payload: bytes,
    method: str = "POST",
    query: str = "",
) -> tuple[str, str]:
    """(signature, signed header names) of a request, per TC3-HMAC-SHA256; `headers` are the
    headers to sign, e.g. content-type and host."""
    signed = {key.lower(): value.strip().lower() for key, value in headers.items()}
    names = ";".join(sorted(signed))
    canonical_headers = "".join(f"{key}:{signed[key]}\n" for key in sorted(signed))
    canonical_request = "\n".join(
        [method, "/", query, canonical_headers, names, _sha256_hex(payload)]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{service}/tc3_request",
            _sha256_hex(canonical_request.encode()),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest(), names


def classify(code: str) -> Outcome:
    if code in _OPTED_OUT:
        return Outcome.OPTED_OUT
    if code in _RATE_LIMITED or code.startswith(("LimitExceeded", "RequestLimitExceeded")):
        return Outcome.RATE_LIMITED
    if code in _RETRYABLE or code.startswith("InternalError"):
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


def chunk(messages: Sequence[OutboundMessage]) -> list[list[OutboundMessage]]:
    """Calls to make: same template and params, ≤ 200 numbers, no number twice in one call
    (statuses come back keyed by number)."""
    groups: dict[str, list[list[OutboundMessage]]] = {}
    for message in messages:
        key = json.dumps([message.template, list(message.params.items())])
        calls = groups.setdefault(key, [])
        target = next(
            (
                c
                for c in calls
                if len(c) < MAX_NUMBERS and all(e164(m.address) != e164(message.address) for m in c)
            ),
            None,
        )
        if target is None:
            calls.append([message])
        else:
            target.append(message)
    return [call for calls in groups.values() for call in calls]


def session_context(messages: Sequence[OutboundMessage]) -> str:
    if len(messages) == 1 and len(messages[0].idempotency_key.encode()) < 512:
        return messages[0].idempotency_key
    keys = "\n".join(sorted(m.idempotency_key for m in messages))
    return f"batch:{hashlib.sha256(keys.encode()).hexdigest()}"


class TencentSmsChannel(SettingsChannel[TencentSmsSettings]):
    """`Channel` for SMS through Tencent Cloud."""

    name = "sms"

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        calls = chunk(messages)
        answers = await bounded_map(
            calls, lambda call: self.guard(call, lambda: self._send_call(call)), self.concurrency
        )
        by_key = {r.idempotency_key: r for answer in answers for r in answer}
        return [by_key[m.idempotency_key] for m in messages]

    def request(self, messages: Sequence[OutboundMessage]) -> tuple[bytes, dict[str, str]]:
        """The JSON body and signed headers of one SendSms call."""
        s = self.settings
        first = messages[0]
        body = {
            "PhoneNumberSet": [e164(m.address) for m in messages],
            "SmsSdkAppId": s.sdk_app_id,
            "SignName": s.sign_name,
            "TemplateId": first.template,
            "TemplateParamSet": list(first.params.values()),
            "SessionContext": session_context(messages),
        }
        return self.signed("SendSms", body)

    def signed(self, action: str, body: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The JSON payload and signed headers of an API 3.0 call."""
        s = self.settings
        payload = json.dumps(body, ensure_ascii=False).encode()
        timestamp = int(time.time())
        host = httpx.URL(s.endpoint).netloc.decode()
        signed = {"Content-Type": CONTENT_TYPE, "Host": host, "X-TC-Action": action}
        signature, names = tc3_signature(
            s.secret_key, timestamp=timestamp, service=SERVICE, headers=signed, payload=payload
        )
        scope = f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d}/{SERVICE}/tc3_request"
        headers = {
            **signed,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
            "X-TC-Region": s.region,
            "Authorization": (
                f"TC3-HMAC-SHA256 Credential={s.secret_id}/{scope}, "
                f"SignedHeaders={names}, Signature={signature}"
            ),
        }
        return payload, headers

    async def pull_send_status(self, limit: int = MAX_PULL) -> list[dict[str, Any]]:
        """PullSmsSendStatus: up to `limit` delivery statuses not pulled before (Tencent hands
        each out once). Raises ProviderError."""
        payload, headers = self.signed(
            "PullSmsSendStatus", {"Limit": limit, "SmsSdkAppId": self.settings.sdk_app_id}
        )
        try:
            response = await self.client.post(
                self.settings.endpoint, content=payload, headers=headers
            )
        except httpx.TransportError as exc:
            raise transport_failure(exc) from None
        raise_for_status_outcome(response)
        answer: dict[str, Any] = json_object(response).get("Response", {})
        if "Error" in answer:
            code = str(answer["Error"].get("Code", "unknown"))
            raise ProviderError(classify(code), code, answer["Error"].get("Message"))
        statuses = answer.get("PullSmsSendStatusSet") or []
        return [st for st in statuses if isinstance(st, dict)]

    async def _send_call(self, messages: list[OutboundMessage]) -> list[SendResult]:
        payload, headers = self.request(messages)
        response = await self.client.post(self.settings.endpoint, content=payload, headers=headers)
        failure = status_failure(messages[0], response)
        if failure is not None:
            return [replace(failure, idempotency_key=m.idempotency_key) for m in messages]
        answer: dict[str, Any] = json_object(response).get("Response", {})
        if "Error" in answer:
            code = str(answer["Error"].get("Code", "unknown"))
            detail = answer["Error"].get("Message")
            return [result(m, classify(code), error_code=code, detail=detail) for m in messages]
        statuses = {s.get("PhoneNumber"): s for s in answer.get("SendStatusSet", [])}
        return [self._status(m, statuses.get(e164(m.address))) for m in messages]

    @staticmethod
    def _status(message: OutboundMessage, status: dict[str, Any] | None) -> SendResult:
        if status is None:
            return result(message, Outcome.RETRYABLE, error_code="missing_status")
        code = str(status.get("Code", ""))
        if code == "Ok":
            return result(message, Outcome.SENT, provider_message_id=status.get("SerialNo"))
        return result(message, classify(code), error_code=code, detail=status.get("Message"))
