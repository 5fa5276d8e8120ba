"""Authenticated encryption of PII fields (AES-256-GCM) with key ids for rotation."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keys import KeyRing, keyring

_VERSION = b"\x01"
_NONCE = 12
_NONCES_PER_DRAW = 4096


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    """One cipher object per key: building one costs more than encrypting a field with it."""
    return AESGCM(key)


@lru_cache(maxsize=16)
def _header(kid: str) -> bytes:
    kid_bytes = kid.encode()
    return _VERSION + bytes([len(kid_bytes)]) + kid_bytes


class _Nonces(threading.local):
    """Random 96-bit nonces, drawn from the OS thousands at a time (one call per field cost
    as much as the encryption). Each thread has its own pool, and a forked child starts a
    new one, so no two encryptions ever share a drawn nonce."""

    def __init__(self) -> None:
        self.pool, self.at = b"", 0

    def take(self) -> bytes:
        at = self.at
        if at >= len(self.pool):
            self.pool, at = os.urandom(_NONCE * _NONCES_PER_DRAW), 0
        self.at = at + _NONCE
        return self.pool[at : at + _NONCE]


_nonces = _Nonces()


def _forget_nonces() -> None:
    global _nonces
    _nonces = _Nonces()


os.register_at_fork(after_in_child=_forget_nonces)


class DecryptionError(RuntimeError):
    """A ciphertext could not be authenticated (wrong key, wrong field, or tampered)."""


@overload
def encrypt(value: str, field: str, ring: KeyRing | None = None) -> bytes: ...
@overload
def encrypt(value: str | None, field: str, ring: KeyRing | None = None) -> bytes | None: ...
def encrypt(value: str | None, field: str, ring: KeyRing | None = None) -> bytes | None:
    """Encrypt one field value; the field name is bound in as associated data."""
    if value is None:
        return None
    ring = ring or keyring()
    nonce = _nonces.take()
    ct = _aead(ring.keys[ring.active_id]).encrypt(nonce, value.encode(), field.encode())
    return _header(ring.active_id) + nonce + ct


def key_id(blob: bytes) -> str:
    """The id of the key a ciphertext was made with."""
    return blob[2 : 2 + blob[1]].decode()


@overload
def decrypt(blob: bytes, field: str, ring: KeyRing | None = None) -> str: ...
@overload
def decrypt(blob: bytes | None, field: str, ring: KeyRing | None = None) -> str | None: ...
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
        plain = _aead(key).decrypt(
            blob[start : start + _NONCE], blob[start + _NONCE :], field.encode()
        )
    except InvalidTag as exc:
        raise DecryptionError(f"ciphertext for {field} failed authentication") from exc
    return plain.decode()


def reencrypt(blob: bytes | None, field: str, ring: KeyRing | None = None) -> bytes | None:
    """Re-encrypt under the active key (rotation); unchanged if already current."""
    ring = ring or keyring()
    if blob is None or key_id(blob) == ring.active_id:
        return blob
    return encrypt(decrypt(blob, field, ring), field, ring)
