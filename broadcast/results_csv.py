"""Reading a broadcast results CSV: the file checks of every import, then each row's fields.

Columns: line, channel, date, impressions, clicks, visits, leads, cost (all required in the
header), revenue (optional). The file fails as a whole (ImportFileError, nothing imported) when
it is not a UTF-8 CSV, is empty or binary, or its header lacks a column or has an unknown or
repeated one. A bad row is rejected with its line number, the field and the reason.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from ingest.parse import FieldError, amount, day, text
from ingest.report import ImportFileError
from ingest.source import _lines, _sniff

REQUIRED = ("line", "channel", "date", "impressions", "clicks", "visits", "leads", "cost")
OPTIONAL = ("revenue",)
COUNTS = ("impressions", "clicks", "visits", "leads")
MAX_COUNT_DIGITS = 15
MAX_ROWS = 100_000
T = TypeVar("T")


@dataclass(frozen=True)
class ResultRow:
    """One row with its fields parsed; `line` and `channel` are checked against the campaign
    by the importer."""

    number: int
    line: str | None
    channel: str
    day: date
    counts: dict[str, int]
    cost: Decimal
    revenue: Decimal | None


@dataclass(frozen=True)
class Reject:
    line: int
    field: str
    value: str | None
    reason: str


def count(field: str, value: str | None) -> int:
    """A whole number ≥ 0 written with digits only."""
    if value is None:
        raise FieldError(field, value, "required value is missing")
    if not value.isascii() or not value.isdigit():
        raise FieldError(field, value, "not a whole number ≥ 0 (digits only, no separators)")
    if len(value) > MAX_COUNT_DIGITS:
        raise FieldError(field, value, "number too large")
    return int(value)


def _header(name: str, header: list[str] | None) -> list[str]:
    if header is None:
        raise ImportFileError(f"{name}: the file is empty")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    unknown = sorted(set(names) - set(REQUIRED + OPTIONAL))
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = [
        f"{what} {', '.join(cols)}"
        for what, cols in (
            ("missing column", missing),
            ("unknown column", unknown),
            ("repeated column", repeated),
        )
        if cols
    ]
    if problems:
        raise ImportFileError(
            f"{name}: not a broadcast results file: {'; '.join(problems)} "
            f"(expected {', '.join(REQUIRED + OPTIONAL)})"
        )
    return names


def _field(
    rejects: list[Reject],
    number: int,
    values: dict[str, str | None],
    name: str,
    parse: Callable[[str, str | None], T],
) -> T | None:
    """The parsed value, or None with the problem added to `rejects`."""
    try:
        return parse(name, values.get(name))
    except FieldError as exc:
        rejects.append(Reject(number, exc.field, exc.value, exc.reason))
        return None


def _parse(number: int, values: dict[str, str | None], today: date) -> ResultRow | list[Reject]:
    rejects: list[Reject] = []

    def get(name: str, parse: Callable[[str, str | None], T]) -> T | None:
        return _field(rejects, number, values, name, parse)

    line = get("line", lambda f, v: text(f, v, 64))
    channel = get("channel", lambda f, v: text(f, v, 32, required=True))
    when = get("date", lambda f, v: day(f, v) if v is not None else _missing(f))
    if when is not None and when > today:
        rejects.append(Reject(number, "date", values["date"], "date is in the future"))
    counts = {name: get(name, count) for name in COUNTS}
    cost = get("cost", amount)
    revenue = get("revenue", amount) if values.get("revenue") is not None else None
    if rejects:
        return rejects
    assert channel is not None and when is not None and cost is not None
    return ResultRow(
        number, line, channel, when, {k: v or 0 for k, v in counts.items()}, cost, revenue
    )


def _missing(field: str) -> date:
    raise FieldError(field, None, "required value is missing")


def read_results(path: Path, today: date) -> Iterator[ResultRow | list[Reject]]:
    """Each data row parsed, or its rejects; raises ImportFileError for a file that is not a
    results CSV (callers must read to the end before writing anything)."""
    if path.suffix.lower() != ".csv":
        raise ImportFileError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; results come as .csv"
        )
    if not path.is_file():
        raise ImportFileError(f"{path.name}: no such file")
    _sniff(path)
    with path.open("rb") as fh:
        reader = csv.reader(_lines(fh, path.name))
        try:
            names = _header(path.name, next(reader, None))
            start = reader.line_num + 1
            for n, fields in enumerate(reader):
                number, start = start, reader.line_num + 1
                if n >= MAX_ROWS:
                    raise ImportFileError(f"{path.name}: more than {MAX_ROWS} rows")
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                if len(fields) != len(names):
                    yield [
                        Reject(
                            number,
                            "(row)",
                            None,
                            f"expected {len(names)} fields, found {len(fields)}",
                        )
                    ]
                    continue
                values = {k: (v.strip() or None) for k, v in zip(names, fields, strict=True)}
                yield _parse(number, values, today)
        except csv.Error as exc:
            raise ImportFileError(
                f"{path.name}: unreadable CSV near line {reader.line_num}: {exc}"
            ) from None
