"""Read and validate a file in batches, on a thread of its own.

Parsing, validation, encryption and COPY encoding of batch n+1 run while the database writes
batch n (psycopg2 releases the GIL while it waits), so Python and PostgreSQL each keep a core
busy. A batch carries its own rejects and counts: the two threads share no state.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ingest.columns import Kind
from ingest.rows import PARSERS, Parsed
from ingest.source import read_rows

Reject = tuple[int, str, str | None, str]


@dataclass(slots=True)
class Batch:
    """Consecutive rows of the file: the valid ones parsed, the invalid ones as rejects."""

    parsed: list[Parsed] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rows: int = 0
    rejected: int = 0
    encoded: str | None = None


def read_batches(path: Path, kind: Kind, now: datetime, size: int,
                 encode: Callable[[list[Parsed]], str] | None = None) -> Iterator[Batch]:
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
                batch.parsed.append(parsed)
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


def _encoded(batch: Batch, encode: Callable[[list[Parsed]], str] | None) -> Batch:
    if encode is not None and batch.parsed:
        batch.encoded = encode(batch.parsed)
    return batch


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def prefetch(batches: Iterator[Batch], depth: int = 2) -> Generator[Batch, None, None]:
    """Produce `batches` on a worker thread, at most `depth` ahead of the consumer.

    An exception in the worker (say ImportFileError) is raised in the consumer; if the
    consumer stops early, the worker is told to stop and is joined.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
        except BaseException as exc:  # handed over to the consumer, raised there
            put(_Failed(exc))
        else:
            put(_DONE)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="ingest-reader", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
