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
        self.flags.extend({"line": parsed.line, "record_key": parsed.record_key,
                           "customer_ref": parsed.customer_ref, "code": code, "detail": detail}
                          for code, detail in parsed.flags)
        self.tags.extend({"external_id": parsed.record_key, "tag": t} for t in parsed.tags)
        self.accepted += 1


def read_batches(path: Path, kind: Kind, now: datetime, size: int,
                 encode: Encoder | None = None) -> Iterator[Batch]:
    """Batches of at most `size` rows read, their valid records `encode`d for the database if
    given. A repeated record key starts a new batch, so a later row for the same record is
    applied after the earlier one, as if the file were read row by row."""
    parse = PARSERS[kind]
    batch, keys = Batch(), set[str]()
    for raw in read_rows(path, kind):
        if raw.problem is None:
            parsed = parse(raw.line, raw.values, now)
            if not isinstance(parsed, list):
                if parsed.record_key in keys:
                    yield _encoded(batch, encode)
                    batch, keys = Batch(), set()
                batch.add(parsed)
                keys.add(parsed.record_key)
            else:
                batch.rejects.extend((raw.line, e.field, e.value, e.reason) for e in parsed)
                batch.rejected += 1
        else:
            batch.rejects.append((raw.line, "", None, raw.problem))
            batch.rejected += 1
        batch.rows += 1
        if batch.rows >= size:
            yield _encoded(batch, encode)
            batch, keys = Batch(), set()
    if batch.rows:
        yield _encoded(batch, encode)


def _encoded(batch: Batch, encode: Encoder | None) -> Batch:
    """Swap the records for their COPY text: one string is all the writer needs of them."""
    if encode is not None and batch.records:
        batch.encoded, batch.records = encode(batch.records), []
    return batch
