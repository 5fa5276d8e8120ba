"""Phone numbers as providers want them: E.164 (`+8613800138000`) for most APIs."""

from __future__ import annotations

import re

from privacy.blind_index import normalize_phone

_NON_DIGITS = re.compile(r"\D")


def e164(address: str) -> str:
    """`+<country><number>`: numbers written with + or 00 keep their country code, anything
    else is taken as a mainland number (`138…`, `86138…`, `+86 138-…`)."""
    text = address.strip()
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("+"):
        return f"+{digits}"
    if text.startswith("00"):
        return f"+{digits[2:]}"
    mainland = normalize_phone(text)
    return f"+86{mainland}" if len(mainland) == 11 else f"+{mainland}"
