"""`import customers|orders|events|consents FILE`: the entry point the CLI calls.

The whole file is one transaction, read and written in chunks (memory stays flat, but for the
ids seen, kept to reject a repeated one: ingest.batches.read_batches): if the file
turns out not to be what it claims (even near its end), nothing is imported. Bad rows do not
stop the import; they go to the reject file and the rest is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, select, update

from ingest import prefetch, staging
from ingest.batches import Batch, Encoder, read_batches
from ingest.chunk import Context
from ingest.columns import KINDS, Kind
from ingest.consents import write_consents
from ingest.customers import write_customers
from ingest.facts import write_events, write_orders
from ingest.rejects import RejectWriter
from ingest.report import ChunkCounts, ImportFileError, ImportReport
from models.ingest_tables import ImportRun

CHUNK_ROWS = 10_000
# From this size on, a file is parsed in a child process (its start is then negligible).
PROCESS_MIN_BYTES = 4 << 20
Writer = Callable[[Connection, Context, Batch], ChunkCounts]
WRITERS: dict[Kind, Writer] = {
    "customers": write_customers,
    "orders": write_orders,
    "events": write_events,
    "consents": write_consents,
}
# Tables whose statistics are refreshed after batches 1, 4, 16, 64, … of an import: those its
# statements join (rather than probe by index in scalar subqueries), which may be new and empty.
ANALYZED: dict[Kind, tuple[str, ...]] = {
    "customers": ("customers", "customer_aliases", "customer_tags", "import_flags"),
    "orders": ("import_flags",),
    "events": ("import_flags",),
    "consents": ("import_flags",),
}

# PostgreSQL advisory lock (SQLite serializes writers anyway). Customer imports take it alone:
# two files naming one person, imported at once, would otherwise each miss the other's
# uncommitted profile and keep both. Other imports share it: their rows point at customers
# without a per-row foreign key, and a customer import's merges are the only deletes of
# customers.
CUSTOMER_IMPORT_LOCK = 0x696D7063  # "impc"

__all__ = ["ImportFileError", "ImportReport", "import_file"]


def import_file(
    engine: Engine,
    kind: Kind,
    path: Path,
    reject_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    in_process: bool | None = None,
) -> ImportReport:
    """Import one file of `kind`; rejected rows go to `reject_path` (CSV) when given.

    The file is parsed on a thread, or in a child process when `in_process` (default: for
    files of PROCESS_MIN_BYTES and more, into PostgreSQL). Raises ImportFileError, with nothing
    imported, if the file is not a `kind` file.
    """
    if kind not in KINDS:
        raise ImportFileError(f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}")
    started, now = time.perf_counter(), datetime.now(UTC)
    path = Path(path)
    with RejectWriter(reject_path) as rejects, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            take = (
                func.pg_advisory_xact_lock
                if kind == "customers"
                else func.pg_advisory_xact_lock_shared
            )
            conn.execute(select(take(CUSTOMER_IMPORT_LOCK)))
        staging.create(conn)
        run_id = conn.execute(
            insert(ImportRun)
            .values(kind=kind, file_name=path.name[:255], started_at=now)
            .returning(ImportRun.id)
        ).scalar_one()
        report = ImportReport(
            kind=kind,
            file_name=path.name,
            run_id=run_id,
            reject_file=str(reject_path) if reject_path else None,
        )
        ctx = Context(run_id=run_id, kind=kind, now=now, rejects=rejects)
        table = staging.BY_KIND[kind]
        pg = conn.dialect.name == "postgresql"
        encode: Encoder | None = partial(staging.encode, table) if pg else None
        if in_process is None:
            in_process = pg and path.is_file() and path.stat().st_size >= PROCESS_MIN_BYTES
        make = partial(read_batches, path, kind, now, chunk_rows, encode)
        source = (
            prefetch.in_process(make)
            if in_process and prefetch.process_available()
            else prefetch.in_thread(make)
        )
        with closing(source) as batches:
            for done, batch in enumerate(batches, start=1):
                _write(conn, ctx, report, batch)
                if done & (done - 1) == 0 and done.bit_length() % 2:  # 1, 4, 16, 64…
                    staging.analyze(conn, ANALYZED[kind])
                if progress is not None:
                    progress(report.rows_read)
        report.seconds = round(time.perf_counter() - started, 3)
        counts = report.model_dump(include=set(ChunkCounts.model_fields) | {"rows_read"})
        conn.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(finished_at=datetime.now(UTC), **counts)
        )
        staging.drop(conn)
    return report


def _write(conn: Connection, ctx: Context, report: ImportReport, batch: Batch) -> None:
    """Write one batch and account for it; its rejects reach the file in line order."""
    report.rows_read += batch.rows
    report.rejected += batch.rejected
    for reject in batch.rejects:
        ctx.rejects.add(*reject)
    if batch.accepted:
        report.add(WRITERS[ctx.kind](conn, ctx, batch))
    ctx.rejects.flush()
