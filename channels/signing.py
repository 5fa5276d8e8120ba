"""HMAC-SHA256 signatures for our own HTTP contracts (generic webhook, call-center callbacks).

`X-Omnireach-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>` with
`X-Omnireach-Timestamp: <unix seconds>`. Signing the timestamp with the body lets a receiver
refuse replays older than the tolerance; comparing in constant time avoids timing leaks.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Omnireach-Timestamp"
SIGNATURE_HEADER = "X-Omnireach-Signature"
DEFAULT_TOLERANCE = 300.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers that authenticate `body`."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when `headers` carry a valid, fresh signature of the exact `body` bytes."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        timestamp = int(lowered.get(TIMESTAMP_HEADER.lower(), ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    return hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode())
