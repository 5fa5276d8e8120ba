"""Key material for PII encryption and blind indexes, kept apart from the data.

Production passes keys through the environment (`OMNIREACH_PII_KEYS="kid:base64,…"`, the first
is the active key; older ones stay readable for rotation; `OMNIREACH_INDEX_KEY=base64`). The
embedded demo creates a key file under the git-ignored `var/` folder on first use.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from settings import settings


class KeyConfigError(RuntimeError):
    """The configured keys are missing or malformed."""


@dataclass(frozen=True)
class KeyRing:
    """Encryption keys by id (the first one encrypts) and the blind-index key."""

    active_id: str
    keys: dict[str, bytes]
    index_key: bytes


def _decode(kid: str, b64: str) -> bytes:
    try:
        key = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise KeyConfigError(f"PII key {kid!r} is not valid base64") from exc
    if len(key) != 32:
        raise KeyConfigError(f"PII key {kid!r} must be 32 bytes, got {len(key)}")
    return key


def parse_keyring(pii_keys: str, index_key: str) -> KeyRing:
    """Parse `kid:base64,kid:base64` plus a base64 index key."""
    pairs = [p.strip() for p in pii_keys.split(",") if p.strip()]
    if not pairs:
        raise KeyConfigError("OMNIREACH_PII_KEYS is empty")
    keys: dict[str, bytes] = {}
    for pair in pairs:
        kid, sep, b64 = pair.partition(":")
        if not sep or not kid:
            raise KeyConfigError("OMNIREACH_PII_KEYS entries must look like kid:base64key")
        keys[kid] = _decode(kid, b64)
    return KeyRing(
        active_id=pairs[0].partition(":")[0], keys=keys, index_key=_decode("index", index_key)
    )


def _dev_keyring(path: Path) -> KeyRing:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "pii_keys": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
    doc = json.loads(path.read_text())
    return parse_keyring(doc["pii_keys"], doc["index_key"])


@lru_cache(maxsize=1)
def keyring() -> KeyRing:
    """The process's key ring: from the environment, else the local development key file."""
    config = settings()
    if config.pii_keys:
        return parse_keyring(config.pii_keys, config.index_key)
    return _dev_keyring(config.key_file)
