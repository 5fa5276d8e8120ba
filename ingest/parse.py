"""Strict parsers for single field values: each returns the value or raises FieldError.

Strict means no guessing: "2024/5/1", "1,234.00" or "yes please" are errors, not data.
Reasons never contain the value itself (the reject file shows it, masked when it is PII).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PHONE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_PHONE_NOISE = re.compile(r"[\s\-()]")
_FOREIGN_PHONE = re.compile(r"(?:\+|00)((?!86)[1-9]\d{6,14})")  # E.164, another country
PHONE_RULE = "not a mainland mobile number (11 digits, 13x–19x) or an E.164 number (+country code)"
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_AMOUNT = re.compile(r"\d{1,10}(?:\.\d{1,2})?")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_GENDERS = {"m": "M", "f": "F", "男": "M", "女": "F"}
_LINE_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class FieldError(ValueError):
    """One field of one row is unusable; `reason` says why in words a clerk understands."""

    def __init__(self, field: str, value: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.value, self.reason = field, value, reason


def text(field: str, value: str | None, max_len: int, required: bool = False) -> str | None:
    """Free text up to max_len characters; line breaks and tabs (a quoted multi-line CSV
    field) become one space, other control characters are an error."""
    if value is None:
        if required:
            raise FieldError(field, value, "required value is missing")
        return None
    if _CONTROL.search(value):
        value = _LINE_BREAKS.sub(" ", value)
        if _CONTROL.search(value):
            raise FieldError(field, value, "contains control characters")
    if len(value) > max_len:
        raise FieldError(field, value, f"longer than {max_len} characters")
    return value


def phone(value: str | None) -> str | None:
    """A mainland mobile number, returned as its 11 digits; another country's number, written
    with + or 00, in E.164 (`+14155550100`)."""
    if value is None:
        return None
    compact = _PHONE_NOISE.sub("", value)
    match = _PHONE.fullmatch(compact)
    if match is not None:
        return match.group(1)
    foreign = _FOREIGN_PHONE.fullmatch(compact)
    if foreign is None:
        raise FieldError("phone", value, PHONE_RULE)
    return f"+{foreign.group(1)}"


def email(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > 254 or _EMAIL.fullmatch(value) is None:
        raise FieldError("email", value, "not a valid email address")
    return value


def gender(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return _GENDERS[value.lower()]
    except KeyError:
        raise FieldError("gender", value, "must be M, F, 男 or 女") from None


def day(field: str, value: str | None) -> date | None:
    """A calendar date written YYYY-MM-DD."""
    if value is None:
        return None
    if _DATE.fullmatch(value) is None:
        raise FieldError(field, value, "not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(field, value, "not a real calendar date") from None


def moment(
    field: str, value: str | None, zone: tzinfo = SHANGHAI, required: bool = False
) -> datetime | None:
    """An ISO 8601 timestamp in UTC; without an offset it is read in `zone`."""
    if value is None:
        if required:
            raise FieldError(field, value, "required value is missing")
        return None
    if _DATETIME.fullmatch(value) is None:
        raise FieldError(field, value, "not an ISO 8601 date-time (e.g. 2024-05-01T10:30:00+08:00)")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, value, "not a real date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def amount(field: str, value: str | None) -> Decimal:
    """Money: a decimal number ≥ 0 with at most two decimal places."""
    if value is None:
        raise FieldError(field, value, "required value is missing")
    if _AMOUNT.fullmatch(value) is not None:
        return Decimal(value)
    if _NUMBER.fullmatch(value) is None or value.startswith("+"):
        raise FieldError(field, value, "not a decimal number (digits and an optional '.')")
    if value.startswith("-"):
        raise FieldError(field, value, "negative amount")
    if "." in value and len(value.rsplit(".", 1)[1]) > 2:
        raise FieldError(field, value, "more than 2 decimal places")
    raise FieldError(field, value, "amount too large")


def boolean(field: str, value: str | None, required: bool = False) -> bool | None:
    if value is None:
        if required:
            raise FieldError(field, value, "required value is missing")
        return None
    try:
        return _BOOLS[value.lower()]
    except KeyError:
        raise FieldError(field, value, "must be true or false") from None


def choice(field: str, value: str | None, allowed: frozenset[str]) -> str:
    if value is None:
        raise FieldError(field, value, "required value is missing")
    if value not in allowed:
        raise FieldError(field, value, f"must be one of {', '.join(sorted(allowed))}")
    return value


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(value: str | None) -> ZoneInfo:
    """An IANA time zone name; empty means Asia/Shanghai."""
    if value is None:
        return SHANGHAI
    try:
        return _zone(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", value, "not an IANA time zone (e.g. Asia/Shanghai)") from None
