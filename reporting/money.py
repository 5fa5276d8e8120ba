"""Money as text for reports: the database keeps four decimal places (a 0.002 email), so a
report shows every one that is there and never rounds a real cost away to 0.00."""

from __future__ import annotations

from decimal import Decimal

SCALE = Decimal("0.0001")  # models/tables.py `Money` = Numeric(14, 4)
CENT = Decimal("0.01")


def money(value: Decimal | float | int | str | None) -> str:
    """12.5 → '12.50', 0.0020 → '0.002', 0.0025 → '0.0025': at least two places, at most four."""
    exact = Decimal(str(value or 0)).quantize(SCALE)
    shown = exact.normalize()
    return str(exact.quantize(CENT) if shown == shown.quantize(CENT) else shown)
