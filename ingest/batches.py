"""Read and validate a file in batches of what the staging tables need.

A batch carries its own staging rows, rejects and counts, so it can be made anywhere (a
thread, another process: see ingest/prefetch.py) and written by the database side alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.columns import Kind
from ingest.rows import PARSERS, Parsed
from ingest.source import read_rows
from ingest.staging import Encoded

Reject = tuple[int, str, str | None, str]
Encoder = Callable[[list[dict[str, Any]]], Encoded]


@dataclass(slots=True)
class Batch:
    """Consecutive rows of the file: the staging records, flags and manual tags of the valid
    ones (records already COPY-encoded when an encoder was given), the invalid ones as rejects."""

    records: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    accepted: int = 0
    rows: int = 0
    rejected: int = 0
    encoded: Encoded | None = None

    def add(self, parsed: Parsed) -> None:
        self.records.append(parsed.record)
        self.flags.extend(
            {
                "line": parsed.line,
                "record_key": parsed.record_key,
                "customer_ref": parsed.customer_ref,
                "code": code,
                "detail": detail,
            }
            for code, detail in parsed.flags
        )
        self.tags.extend({"external_id": parsed.record_key, "tag": t} for t in parsed.tags)
        self.accepted += 1


def read_batches(
    path: Path, kind: Kind, now: datetime, size: int, encode: Encoder | None = None
) -> Iterator[Batch]:
    """Batches of at most `size` rows read, their valid records `encode`d for the database if
    given. A repeated record key starts a new batch, so a later row for the same record is
    applied after the earlier one, as if the file were read row by row.

    A retailer's id (customer, order, event id) repeated in the file is rejected after its first
    row: a later row silently replacing the first moved an order to another customer. The ids
    seen are kept to the end of the file (about 120 bytes each), so this is exact across batches.
    """
    parse = PARSERS[kind]
    batch, keys, seen = Batch(), set[str](), dict[str, int]()
    for raw in read_rows(path, kind):
        if raw.problem is not None:
            batch.rejects.append((raw.line, "", None, raw.problem))
            batch.rejected += 1
        elif isinstance(parsed := parse(raw.line, raw.values, now), list):
            batch.rejects.extend((raw.line, e.field, e.value, e.reason) for e in parsed)
            batch.rejected += 1
        elif (repeat := _repeated(seen, parsed)) is not None:
            batch.rejects.append(repeat)
            batch.rejected += 1
        else:
            if parsed.record_key in keys:
                yield _encoded(batch, encode)
                batch, keys = Batch(), set()
            batch.add(parsed)
            keys.add(parsed.record_key)
        batch.rows += 1
        if batch.rows >= size:
            yield _encoded(batch, encode)
            batch, keys = Batch(), set()
    if batch.rows:
        yield _encoded(batch, encode)


def _repeated(seen: dict[str, int], parsed: Parsed) -> Reject | None:
    """The reject of a row whose id an earlier row of the file took (else None, and the id is
    now taken by this row's line)."""
    if parsed.unique is None:
        return None
    column, value = parsed.unique
    first = seen.setdefault(value, parsed.line)
    if first == parsed.line:
        return None
    return parsed.line, column, value, f"duplicate {column} in this file, first on line {first}"


def _encoded(batch: Batch, encode: Encoder | None) -> Batch:
    """Swap the records for their COPY text: one string is all the writer needs of them."""
    if encode is not None and batch.records:
        batch.encoded, batch.records = encode(batch.records), []
    return batch
