"""Standard five-field cron expressions, checked before a schedule is created: the operator
reads which field is wrong and why, not the server's parse error after something was written."""

from __future__ import annotations

import re

MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAYS = "SUN MON TUE WED THU FRI SAT".split()
# (name, lowest, highest, names for the numbers from `lowest`)
FIELDS: list[tuple[str, int, int, list[str]]] = [
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),  # 0 and 7 are both Sunday
]
_PART = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def _value(text: str, field: tuple[str, int, int, list[str]]) -> int:
    name, low, high, names = field
    if text.upper() in names:
        return low + names.index(text.upper())
    if not text.isdigit():
        raise ValueError(f"{name} {text!r} is not a number" + (" or a name" if names else ""))
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{name} {number} is outside {low}-{high}")
    return number


def _check_part(part: str, field: tuple[str, int, int, list[str]]) -> None:
    found = _PART.match(part)
    if found is None:
        raise ValueError(f"{field[0]} {part!r} is not a value, range, list or step")
    if found["step"] is not None and int(found["step"]) == 0:
        raise ValueError(f"{field[0]} {part!r} has a step of 0")
    if found["range"] == "*":
        return
    first, _, last = found["range"].partition("-")
    low = _value(first, field)
    if last and _value(last, field) < low:
        raise ValueError(f"{field[0]} range {found['range']!r} runs backwards")


def check_cron(expression: str) -> str:
    """The expression, if it is five valid fields (minute hour day-of-month month
    day-of-week, with *, ranges, lists, steps and JAN/MON names); ValueError naming the
    field otherwise."""
    fields = expression.split()
    if len(fields) != len(FIELDS):
        raise ValueError(
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(fields)}"
        )
    for text, field in zip(fields, FIELDS, strict=True):
        for part in text.split(","):
            _check_part(part, field)
    return " ".join(fields)
