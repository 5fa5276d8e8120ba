"""Audit keys, derived from the key ring with HKDF (as the Temporal codec's key is), so they live
outside the database with the PII keys and need no secret of their own.

They come from the ring's blind-index key: PII keys rotate (older ones leave the ring), the index
key does not (changing it means rebuilding every blind index), so keyed entries stay verifiable.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.keys import KeyRing, keyring

_CHAIN_INFO = b"omnireach/audit-chain/v1"
_CHECKPOINT_INFO = b"omnireach/audit-checkpoint/v1"


def _derive(info: bytes, ring: KeyRing | None) -> bytes:
    source = (ring or keyring()).index_key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(source)


def chain_key(ring: KeyRing | None = None) -> bytes:
    """The HMAC key of the entries' hash chain."""
    return _derive(_CHAIN_INFO, ring)


def checkpoint_key(ring: KeyRing | None = None) -> bytes:
    """The HMAC key that signs the head checkpoint (a separate key: a chain hash is never a
    valid checkpoint signature, nor the reverse)."""
    return _derive(_CHECKPOINT_INFO, ring)
