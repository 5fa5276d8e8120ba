"""Display masks for PII: what logs, the CLI, reports and exports show instead of the value."""

from __future__ import annotations

import re

from privacy.blind_index import normalize_phone

_PHONE_LIKE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_EMAIL_LIKE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678."""
    if not phone:
        return ""
    digits = normalize_phone(phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str | None) -> str:
    """zhang.san@example.com → z***@example.com."""
    if not email or "@" not in email:
        return "***" if email else ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_name(name: str | None) -> str:
    """张三丰 → 张**; keeps the family name only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str | None) -> str:
    """Keeps the first six characters (province/city), hides the rest."""
    if not address:
        return ""
    return address[:6] + "****"


def scrub(text: str) -> str:
    """Mask any phone number or email address that appears inside free text."""
    text = _EMAIL_LIKE.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)


def holds_contact(text: str) -> bool:
    """True if a phone number or email address appears inside free text (what scrub masks)."""
    return _EMAIL_LIKE.search(text) is not None or _PHONE_LIKE.search(text) is not None
