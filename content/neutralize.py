"""Text that leaves us for a spreadsheet or a terminal: never a formula, never a control code.

Spreadsheets run a cell that starts with `= + - @`, a tab or a carriage return as a formula
(OWASP "CSV injection"); terminals act on ESC, BEL and other control characters. Customer data
and import files are untrusted, so everything we write to a CSV or print goes through here.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters (except tab and newline) shown as `\\xNN`, so they do nothing."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: formula starts get a leading apostrophe
    (OWASP), control characters are escaped; numbers and empty values pass unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return printable(value)
