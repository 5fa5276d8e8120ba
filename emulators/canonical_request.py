"""The canonical request both Alibaba's ACS3 and Tencent's TC3 signatures hash (the shape of
AWS SigV4): method, path, query, the signed headers as `name:value` lines, their names, and the
payload's hash, one per line."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence


def canonical_request_hash(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed: Sequence[str],
    payload_hash: str,
    value: Callable[[str], str] = str.strip,
) -> str:
    """Hex SHA-256 of the canonical request; `value` normalises each signed header's value."""
    lowered = {k.lower(): v for k, v in headers.items()}
    lines = "".join(f"{name}:{value(lowered.get(name, ''))}\n" for name in signed)
    canonical = "\n".join(
        [method.upper(), path or "/", query, lines, ";".join(signed), payload_hash]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
