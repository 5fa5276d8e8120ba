"""Keyed hashes of normalized PII so lookups and dedup never need plaintext."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from privacy.keys import KeyRing, keyring

_NON_DIGITS = re.compile(r"\D")


def normalize_phone(phone: str) -> str:
    """Mainland numbers to their 11 digits: '+86 138-0013-8000' → '13800138000'; another
    country's, written with + or 00, to E.164 ('+1 415 555 0100' → '+14155550100'), so no
    foreign number shares a mainland number's index."""
    if len(phone) == 11 and phone.isdigit():  # already normalized (as imported numbers are)
        return phone
    text = phone.strip()
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("00"):
        digits = digits[2:]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return f"+{digits}" if text.startswith(("+", "00")) else digits


def normalize_email(email: str) -> str:
    return email.strip().lower()


_NORMALIZE = {"phone": normalize_phone, "email": normalize_email}


def blind_index(kind: str, value: str | None, ring: KeyRing | None = None) -> str | None:
    """HMAC-SHA256 of kind and normalized value, hex; stable for equal inputs under one key."""
    if value is None or value == "":
        return None
    norm = _NORMALIZE.get(kind, str.strip)(value)
    inner, outer = _keyed(ring.index_key if ring else keyring().index_key, kind)
    mac = inner.copy()
    mac.update(norm.encode())
    result = outer.copy()
    result.update(mac.digest())
    return result.hexdigest()


@lru_cache(maxsize=16)
def _keyed(key: bytes, kind: str) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256 (RFC 2104) of messages starting "kind:", as its inner state (key block
    and prefix absorbed) and outer state: copying them is a third of the cost of hmac.digest,
    which sets up the key anew for every value."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    inner.update(f"{kind}:".encode())
    return inner, hashlib.sha256(bytes(b ^ 0x5C for b in block))


_BLOCK = 64  # SHA-256's block size
