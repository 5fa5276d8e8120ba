"""Our signed webhook contract as a receiver checks it, re-implemented here apart from
the product's signer (`channels.signing`), so a change there that breaks the contract fails: `X-Omnireach-Signature: v1=<hex HMAC-SHA256(secret, "<ts>." + body)>` with
`X-Omnireach-Timestamp: <unix seconds>`, refused when older than five minutes."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE = 300


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "v1="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def contract_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """What a platform sends with a callback it signs."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        "X-Omnireach-Timestamp": timestamp,
        "X-Omnireach-Signature": _mac(secret, timestamp, body),
    }


def contract_valid(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-omnireach-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    given = lowered.get("x-omnireach-signature", "")
    return hmac.compare_digest(given.encode(), _mac(secret, timestamp, body).encode())
