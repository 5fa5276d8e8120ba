"""Authenticated encryption of PII fields (AES-256-GCM) with key ids for rotation."""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keys import KeyRing, keyring

_VERSION = b"\x01"


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    """One cipher object per key: building one costs more than encrypting a field with it."""
    return AESGCM(key)


class DecryptionError(RuntimeError):
    """A ciphertext could not be authenticated (wrong key, wrong field, or tampered)."""


def encrypt(value: str | None, field: str, ring: KeyRing | None = None) -> bytes | None:
    """Encrypt one field value; the field name is bound in as associated data."""
    if value is None:
        return None
    ring = ring or keyring()
    kid = ring.active_id.encode()
    nonce = os.urandom(12)
    ct = _aead(ring.keys[ring.active_id]).encrypt(nonce, value.encode(), field.encode())
    return _VERSION + bytes([len(kid)]) + kid + nonce + ct


def key_id(blob: bytes) -> str:
    """The id of the key a ciphertext was made with."""
    return blob[2 : 2 + blob[1]].decode()


def decrypt(blob: bytes | None, field: str, ring: KeyRing | None = None) -> str | None:
    """Decrypt a value made by `encrypt` with any key still in the ring."""
    if blob is None:
        return None
    ring = ring or keyring()
    kid = key_id(blob)
    key = ring.keys.get(kid)
    if key is None:
        raise DecryptionError(f"no key with id {kid!r} in the key ring")
    start = 2 + blob[1]
    try:
        plain = _aead(key).decrypt(blob[start : start + 12], blob[start + 12 :], field.encode())
    except InvalidTag as exc:
        raise DecryptionError(f"ciphertext for {field} failed authentication") from exc
    return plain.decode()


def reencrypt(blob: bytes | None, field: str, ring: KeyRing | None = None) -> bytes | None:
    """Re-encrypt under the active key (rotation); unchanged if already current."""
    ring = ring or keyring()
    if blob is None or key_id(blob) == ring.active_id:
        return blob
    return encrypt(decrypt(blob, field, ring), field, ring)
