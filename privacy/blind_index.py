"""Keyed hashes of normalized PII so lookups and dedup never need plaintext."""

from __future__ import annotations

import hashlib
import hmac
import re

from privacy.keys import KeyRing, keyring

_NON_DIGITS = re.compile(r"\D")


def normalize_phone(phone: str) -> str:
    """Mainland numbers to their 11 digits: '+86 138-0013-8000' → '13800138000'."""
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def normalize_email(email: str) -> str:
    return email.strip().lower()


_NORMALIZE = {"phone": normalize_phone, "email": normalize_email}


def blind_index(kind: str, value: str | None, ring: KeyRing | None = None) -> str | None:
    """HMAC-SHA256 of kind and normalized value, hex; stable for equal inputs under one key."""
    if value is None or value == "":
        return None
    norm = _NORMALIZE.get(kind, str.strip)(value)
    ring = ring or keyring()
    return hmac.digest(ring.index_key, f"{kind}:{norm}".encode(), hashlib.sha256).hex()
