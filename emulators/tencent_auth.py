"""Tencent Cloud API 3.0 signatures as the gateway checks them, written from Tencent's
documentation and apart from the adapter's signer (so a wrong algorithm there cannot pass here).

TC3-HMAC-SHA256 (signature v3): POST signs the body with an empty canonical query; GET signs the
query string exactly as sent with an empty body; `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` signs
that word instead of the body. Signed header names and values are lower-cased and trimmed.

Signature v1 (`SignatureMethod` HmacSHA1 or HmacSHA256, every parameter in the query string of a
GET or the form body of a POST): base64 HMAC of method, host, path and the sorted raw `k=v`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from emulators.canonical_request import canonical_request_hash

ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
V1_DIGESTS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<names>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Tc3Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_tc3(header: str) -> Tc3Authorization | None:
    match = _AUTHORIZATION.match(header.strip())
    if match is None:
        return None
    return Tc3Authorization(
        match["id"],
        match["date"],
        match["service"],
        tuple(match["names"].split(";")),
        match["signature"],
    )


def _mac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def tc3_expected(
    auth: Tc3Authorization,
    secret_key: str,
    *,
    timestamp: int,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    payload: bytes,
) -> str:
    """The hex signature the gateway computes for this request."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("x-tc-content-sha256") == UNSIGNED_PAYLOAD:
        payload = UNSIGNED_PAYLOAD.encode()
    digest = canonical_request_hash(
        method=method,
        path=path,
        query=query,
        headers=headers,
        signed=auth.signed_headers,
        payload_hash=hashlib.sha256(payload).hexdigest(),
        value=lambda v: v.strip().lower(),
    )
    scope = f"{auth.date}/{auth.service}/tc3_request"
    text = "\n".join([ALGORITHM, str(timestamp), scope, digest])
    key = _mac(_mac(_mac(f"TC3{secret_key}".encode(), auth.date), auth.service), "tc3_request")
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def date_matches(auth: Tc3Authorization, timestamp: int) -> bool:
    """The credential scope's date is the UTC date of X-TC-Timestamp."""
    return auth.date == datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def v1_expected(
    params: Mapping[str, str], secret_key: str, *, method: str, host: str, path: str
) -> str | None:
    """The base64 v1 signature of these parameters (None: a SignatureMethod Tencent does not
    take). The text signed is `METHOD` + host + path + `?` + every parameter but `Signature`,
    sorted by name, as raw `k=v` joined by `&`."""
    digest = V1_DIGESTS.get(params.get("SignatureMethod", "HmacSHA1"))
    if digest is None:
        return None
    pairs = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "Signature")
    text = f"{method.upper()}{host}{path or '/'}?{pairs}"
    mac = hmac.new(secret_key.encode("utf-8"), text.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode()
