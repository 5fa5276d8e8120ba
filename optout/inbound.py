"""Inbound SMS (uplink replies) in each provider's callback format, and how we authenticate it.

Tencent Cloud SMS "SMS Reply" callback: one JSON object {mobile, nationcode, text, sign, time,
extend}; answer {"result": 0, "errmsg": "OK"}. Alibaba Cloud SmsUp HTTP batch push: a JSON
array of {phone_number, content, sign_name, send_time, dest_code, sequence_id}; answer
{"code": 0, "msg": "接收成功"}; a non-200 answer makes either provider redeliver.

Neither provider signs its callbacks, so the URL configured in the console carries a shared
secret, `OMNIREACH_<TENCENT|ALIYUN>_SMS_INBOUND_SECRET`: either as `?token=SECRET` (what a
provider console can hold) or, behind a gateway that relays the body, as the header
`X-Omnireach-Signature: sha256=<hex HMAC-SHA256(SECRET, raw body)>`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from channels.config import Env

SIGNATURE_HEADER = "x-omnireach-signature"
MIN_SECRET_LENGTH = 16


class BadPayload(ValueError):
    """The callback body is not in the provider's documented format (message names the field)."""


@dataclass(frozen=True)
class Reply:
    """One customer reply. `phone` is PII: never log it."""

    phone: str
    text: str
    sign: str | None


def _field(item: Mapping[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise BadPayload(f"{where}.{name}: missing or not a string")
    return str(value).strip()


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _items(doc: Any, provider: str) -> list[Mapping[str, Any]]:
    items = doc if isinstance(doc, list) else [doc]
    if not items or not all(isinstance(i, Mapping) for i in items):
        raise BadPayload(f"{provider}: expected a JSON object or an array of objects")
    return items


def parse_tencent(doc: Any) -> list[Reply]:
    replies = []
    for n, item in enumerate(_items(doc, "tencent")):
        where = f"[{n}]"
        mobile, code = _field(item, "mobile", where), str(item.get("nationcode") or "86")
        phone = mobile if code in ("86", "+86") else f"+{code.lstrip('+')}{mobile}"
        replies.append(Reply(phone, _field(item, "text", where), _text(item.get("sign"))))
    return replies


def parse_aliyun(doc: Any) -> list[Reply]:
    if not isinstance(doc, list):
        raise BadPayload("aliyun: SmsUp pushes a JSON array of messages")
    return [
        Reply(
            _field(item, "phone_number", f"[{n}]"),
            _field(item, "content", f"[{n}]"),
            _text(item.get("sign_name")),
        )
        for n, item in enumerate(_items(doc, "aliyun"))
    ]


@dataclass(frozen=True)
class Provider:
    name: str
    env: str
    parse: Callable[[Any], list[Reply]]
    ok: dict[str, Any]

    def secret(self, environ: Mapping[str, str] | None = None) -> str | None:
        value = Env(self.env, environ).optional("INBOUND_SECRET")
        return value if value and len(value) >= MIN_SECRET_LENGTH else None


PROVIDERS = {
    "tencent": Provider("tencent", "TENCENT_SMS", parse_tencent, {"result": 0, "errmsg": "OK"}),
    "aliyun": Provider("aliyun", "ALIYUN_SMS", parse_aliyun, {"code": 0, "msg": "接收成功"}),
}


def sign(secret: str, body: bytes) -> str:
    """The signature header value a gateway sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authentic(secret: str, body: bytes, header: str | None, token: str | None) -> bool:
    """True if the HMAC header or the token query parameter matches (constant time)."""
    if header and hmac.compare_digest(header.strip().encode(), sign(secret, body).encode()):
        return True
    return token is not None and hmac.compare_digest(token.encode(), secret.encode())
