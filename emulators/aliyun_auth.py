"""Alibaba Cloud request signatures as the gateway checks them, written from Alibaba's
documentation and apart from the adapter's signer (so a wrong algorithm there cannot pass here).

Two generations: the RPC signature (`SignatureMethod=HMAC-SHA1`, parameters in the query string
or the form body) and V3 (`Authorization: ACS3-HMAC-SHA256 …` over a canonical request that
names its signed headers, with the body's SHA-256 in `x-acs-content-sha256`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote_plus

from emulators.canonical_request import canonical_request_hash

ACS3 = "ACS3-HMAC-SHA256"
_AUTHORIZATION = re.compile(
    r"^ACS3-HMAC-SHA256 Credential=(?P<id>[^,]+),SignedHeaders=(?P<names>[a-z0-9;.-]+),"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


def encode(text: str) -> str:
    """Alibaba's percentEncode: form encoding, then `+`→`%20`, `*`→`%2A`, `%7E`→`~`."""
    return (
        quote_plus(text, encoding="utf-8")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def rpc_expected(params: Mapping[str, str], secret: str, method: str) -> str:
    """Base64 HMAC-SHA1 (key `secret&`) of `METHOD&%2F&encode(sorted encoded pairs)`."""
    pairs = sorted((encode(k), encode(v)) for k, v in params.items() if k != "Signature")
    query = "&".join(f"{k}={v}" for k, v in pairs)
    text = f"{method.upper()}&{encode('/')}&{encode(query)}"
    mac = hmac.new((secret + "&").encode(), text.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def rpc_valid(params: Mapping[str, str], secret: str, method: str) -> bool:
    return hmac.compare_digest(params.get("Signature", ""), rpc_expected(params, secret, method))


@dataclass(frozen=True)
class Acs3Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_acs3(header: str) -> Acs3Authorization | None:
    match = _AUTHORIZATION.match(header.strip())
    if match is None:
        return None
    return Acs3Authorization(match["id"], tuple(match["names"].split(";")), match["signature"])


def acs3_expected(
    auth: Acs3Authorization,
    secret: str,
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> str:
    """Hex HMAC-SHA256 over `ACS3-HMAC-SHA256\\n` + hex SHA-256 of the canonical request
    (method, path, sorted encoded query, signed headers `name:value`, their names, body hash)."""
    digest = canonical_request_hash(
        method=method,
        path=path,
        query="&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(query.items())),
        headers=headers,
        signed=auth.signed_headers,
        payload_hash={k.lower(): v for k, v in headers.items()}.get("x-acs-content-sha256", ""),
    )
    text = f"{ACS3}\n{digest}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def acs3_headers_complete(auth: Acs3Authorization, headers: Mapping[str, str]) -> bool:
    """Alibaba requires host, content-type (when sent) and every x-acs-* header to be signed."""
    names = set(auth.signed_headers)
    needed = {k.lower() for k in headers if k.lower().startswith("x-acs-")} | {"host"}
    if any(k.lower() == "content-type" for k in headers):
        needed.add("content-type")
    return needed <= names and list(auth.signed_headers) == sorted(names)
