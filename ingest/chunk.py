"""Steps every kind shares when it writes a chunk: resolve customer ids, reject unknown ones,
record data-quality flags. All set-based over the staged chunk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, text

from ingest import staging
from ingest.batches import Batch
from ingest.columns import Kind
from ingest.rejects import RejectWriter

# The profile a retailer id stands for: its own row, or the profile it was merged into.
RESOLVE = """COALESCE(
    (SELECT c.id FROM customers c WHERE c.external_id = {ref}),
    (SELECT a.customer_id FROM customer_aliases a WHERE a.external_id = {ref}))"""


@dataclass(frozen=True)
class Context:
    """What the writers of one import share."""

    run_id: int
    kind: Kind
    now: datetime
    rejects: RejectWriter


def stage(conn: Connection, table: Table, batch: Batch) -> None:
    """Empty the staging tables and load this batch's records and flags."""
    staging.clear(conn, table, staging.FLAGS)
    staging.load(conn, table, batch.records, batch.encoded)
    staging.load(conn, staging.FLAGS, batch.flags)


def resolve_customers(conn: Connection, ctx: Context, table: Table) -> int:
    """Fill customer_id (and registered_at, if staged) from customer_ref, by one index probe per
    row; reject rows naming no known customer. Returns the number rejected."""
    columns = ["customer_id"] + (["registered_at"] if "registered_at" in table.c else [])
    found = ", ".join(["c.id", *(f"c.{c}" for c in columns[1:])])
    for source, key, only in (
        ("customers c", "c.external_id", ""),
        (
            "customer_aliases a JOIN customers c ON c.id = a.customer_id",
            "a.external_id",
            " WHERE customer_id IS NULL",
        ),
    ):
        conn.execute(
            text(
                f"UPDATE {table.name} SET ({', '.join(columns)}) = (SELECT {found} "
                f"FROM {source} WHERE {key} = {table.name}.customer_ref){only}"
            )
        )
    unknown = conn.execute(
        text(f"SELECT line, customer_ref FROM {table.name} WHERE customer_id IS NULL")
    ).all()
    for line, ref in unknown:
        ctx.rejects.add(line, "customer_id", ref, "unknown customer_id (import the customer first)")
    if unknown:
        conn.execute(text(f"DELETE FROM {table.name} WHERE customer_id IS NULL"))
        conn.execute(
            text(
                f"DELETE FROM {staging.FLAGS.name} WHERE line NOT IN "
                f"(SELECT line FROM {table.name})"
            )
        )
    return len(unknown)


def record_flags(conn: Connection, ctx: Context, table: Table, key_column: str) -> int:
    """Replace the flags of the staged records with the ones this import raised."""
    conn.execute(
        text(f"""
        DELETE FROM import_flags WHERE id IN (
            SELECT f.id FROM {table.name} s JOIN import_flags f
            ON f.kind = :kind AND f.record_key = s.{key_column})"""),
        {"kind": ctx.kind},
    )
    result = conn.execute(
        text(f"""
        INSERT INTO import_flags (run_id, kind, record_key, line, customer_id, code, detail)
        SELECT :run, :kind, f.record_key, f.line, {RESOLVE.format(ref="f.customer_ref")},
               f.code, f.detail
        FROM {staging.FLAGS.name} f"""),
        {"run": ctx.run_id, "kind": ctx.kind},
    )
    return max(result.rowcount or 0, 0)
