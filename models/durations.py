"""Human durations in specs ('90s', '5m', '2h', '7d') and relative times ('+2m')."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object) -> object:
    """'15m' → timedelta(minutes=15); other values go on to pydantic's own parsing."""
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
        if not value.strip().upper().startswith("P"):
            raise ValueError(f"{value!r} is not a duration like 90s, 15m, 2h, 7d or 1w")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def resolve_relative(value: object, now: datetime) -> object:
    """'+5m' → now + 5 minutes; anything else is left for datetime parsing."""
    if isinstance(value, str) and value.strip().startswith("+"):
        delta = parse_duration(value.strip()[1:])
        assert isinstance(delta, timedelta)
        return now + delta
    return value
