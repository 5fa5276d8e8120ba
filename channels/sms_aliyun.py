"""Alibaba Cloud SMS (`dysmsapi` SendSms, RPC style) with a hand-written HMAC-SHA1 signer.

One SendSms per message, run concurrently under a semaphore: SendBatchSms answers with a single
code for the whole batch, which would hide which number failed. The template is rendered by
Alibaba from `TemplateCode` + `TemplateParam` (the message's params), so `body` is not sent.
`OutId` carries the idempotency key, which Alibaba echoes in delivery receipts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.http import (
    ProviderError,
    SettingsChannel,
    json_object,
    raise_for_status_outcome,
    result,
    status_failure,
    transport_failure,
)
from channels.phones import e164

API_VERSION = "2017-05-25"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"

_OPTED_OUT = {"isv.CUSTOMER_REFUSED", "MOBILE_IN_BLACK"}
_RATE_LIMITED = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isv.BUSINESS_LIMIT_HOUR",
    "isv.BUSINESS_LIMIT_DAY",
    "BUSINESS_LIMIT_CONTROL_MINUTE",
    "BUSINESS_LIMIT_CONTROL_PHONE",
}
# Account-level states that clear without touching the message (top-up, provider incident).
_RETRYABLE = {"isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH", "SignatureNonceUsed"}


@dataclass(frozen=True)
class AliyunSmsSettings:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    endpoint: str = DEFAULT_ENDPOINT
    region: str = "cn-hangzhou"
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AliyunSmsSettings:
        env = Env("ALIYUN_SMS", environ)
        return cls(
            access_key_id=env.require("ACCESS_KEY_ID"),
            access_key_secret=env.require("ACCESS_KEY_SECRET"),
            sign_name=env.require("SIGN_NAME"),
            endpoint=env.get("ENDPOINT", DEFAULT_ENDPOINT),
            region=env.get("REGION", "cn-hangzhou"),
            **env.http_limits(),
        )


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba specifies it: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="~")


def rpc_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """Signature of an RPC-style request: HMAC-SHA1 keyed with `secret + "&"` over
    `METHOD&%2F&` + the encoded, sorted canonical query."""
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(value)}" for key, value in sorted(params.items())
    )
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def phone_number(address: str) -> str:
    """Alibaba's form: the 11 digits of a mainland number, country code + number otherwise."""
    number = e164(address)
    return number[3:] if number.startswith("+86") else number[1:]


def classify(code: str) -> Outcome:
    """Outcome of a non-OK `Code` from SendSms."""
    if code in _OPTED_OUT:
        return Outcome.OPTED_OUT
    if code in _RATE_LIMITED or code.startswith("Throttling"):
        return Outcome.RATE_LIMITED
    if code in _RETRYABLE or code.startswith("isp."):
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


class AliyunSmsChannel(SettingsChannel[AliyunSmsSettings]):
    """`Channel` for SMS through Alibaba Cloud."""

    name = "sms"

    def signed(self, action: str, fields: Mapping[str, str]) -> dict[str, str]:
        """The common parameters of an RPC call, its `fields` and the signature over both."""
        s = self.settings
        params = {
            "AccessKeyId": s.access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": s.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            **fields,
        }
        params["Signature"] = rpc_signature(params, s.access_key_secret)
        return params

    def signed_params(self, message: OutboundMessage) -> dict[str, str]:
        fields = {
            "PhoneNumbers": phone_number(message.address),
            "SignName": self.settings.sign_name,
            "TemplateCode": message.template,
            "OutId": message.idempotency_key,
        }
        if message.params:
            fields["TemplateParam"] = json.dumps(message.params, ensure_ascii=False)
        return self.signed("SendSms", fields)

    async def send_details(self, address: str, sent_on: date, biz_id: str) -> list[dict[str, Any]]:
        """QuerySendDetails for one send (Alibaba keeps them 30 days): the carrier's status per
        number, `SendStatus` 1 waiting, 2 failed, 3 delivered. Raises ProviderError."""
        fields = {
            "PhoneNumber": phone_number(address),
            "SendDate": sent_on.strftime("%Y%m%d"),
            "BizId": biz_id,
            "PageSize": "50",
            "CurrentPage": "1",
        }
        try:
            response = await self.client.post(
                self.settings.endpoint, data=self.signed("QuerySendDetails", fields)
            )
        except httpx.TransportError as exc:
            raise transport_failure(exc) from None
        raise_for_status_outcome(response)
        body = json_object(response)
        code = str(body.get("Code", f"http_{response.status_code}"))
        if code != "OK":
            raise ProviderError(classify(code), code, body.get("Message"))
        details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
        return [d for d in details if isinstance(d, dict)]

    async def send_one(self, message: OutboundMessage) -> SendResult:
        response = await self.client.post(self.settings.endpoint, data=self.signed_params(message))
        if (failure := status_failure(message, response)) is not None:
            return failure
        body = json_object(response)
        code = str(body.get("Code", f"http_{response.status_code}"))
        if code == "OK":
            return result(message, Outcome.SENT, provider_message_id=body.get("BizId"))
        return result(message, classify(code), error_code=code, detail=body.get("Message"))
