"""Write a chunk of customers: upsert by retailer id, manual tags, flags, then merge duplicates.

An empty cell never erases a stored value (a file that lacks a phone does not delete it). A
row whose id is the alias of a merged profile only fills that profile's gaps, so importing
both halves of a merged pair again changes nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ingest import staging
from ingest.batches import Batch
from ingest.chunk import RESOLVE, Context, record_flags, stage
from ingest.merge import FILLED, fill_gaps, merge_duplicates
from ingest.report import ChunkCounts

COLUMNS = (*FILLED, "timezone")
STAGED = staging.CUSTOMERS.name
IS_ALIAS = ("(SELECT a.customer_id FROM customer_aliases a WHERE a.external_id = s.external_id)"
            " IS NOT NULL")
ALIASED = ("SELECT a.customer_id AS target_id, s.line AS ord, "
           + ", ".join(f"s.{c}" for c in FILLED)
           + f" FROM {STAGED} s JOIN customer_aliases a ON a.external_id = s.external_id")
UPSERT = f"""
INSERT INTO customers (external_id, {', '.join(COLUMNS)})
SELECT s.external_id, {', '.join(f's.{c}' for c in COLUMNS)} FROM {STAGED} s
WHERE NOT {IS_ALIAS} ORDER BY s.line
ON CONFLICT (external_id) DO UPDATE SET
    {', '.join(f'{c} = COALESCE(excluded.{c}, customers.{c})' for c in FILLED)},
    timezone = excluded.timezone"""
EXISTING = f"""
SELECT count(*) FROM {STAGED} s
WHERE (SELECT c.id FROM customers c WHERE c.external_id = s.external_id) IS NOT NULL"""
ERASED = f"""
SELECT s.line, s.external_id FROM {STAGED} s
WHERE (SELECT c.erased_at FROM customers c WHERE c.id = {RESOLVE.format(ref="s.external_id")})
      IS NOT NULL"""


def write_customers(conn: Connection, ctx: Context, batch: Batch) -> ChunkCounts:
    stage(conn, staging.CUSTOMERS, batch)
    staging.clear(conn, staging.TAGS, staging.IDS)
    staging.load(conn, staging.TAGS, batch.tags)
    rejected = _reject_erased(conn, ctx)
    aliased = conn.execute(text(f"SELECT count(*) FROM {STAGED} s WHERE {IS_ALIAS}")).scalar_one()
    if aliased:
        fill_gaps(conn, ALIASED)
    existing = conn.execute(text(EXISTING)).scalar_one()
    conn.execute(text(UPSERT))
    conn.execute(text(f"""
        INSERT INTO customer_tags (customer_id, tag, source)
        SELECT DISTINCT {RESOLVE.format(ref="t.external_id")}, t.tag, 'manual'
        FROM {staging.TAGS.name} t WHERE true
        ON CONFLICT (customer_id, tag) DO NOTHING"""))
    flagged = record_flags(conn, ctx, staging.CUSTOMERS, "external_id")
    conn.execute(text(f"INSERT INTO {staging.IDS.name} (id) SELECT DISTINCT "
                      f"{RESOLVE.format(ref='s.external_id')} FROM {STAGED} s"))
    merged = merge_duplicates(conn, ctx.run_id, ctx.now)
    return ChunkCounts(inserted=batch.accepted - rejected - existing - aliased,
                       updated=existing + aliased, rejected=rejected, flagged=flagged,
                       merged=merged)


def _reject_erased(conn: Connection, ctx: Context) -> int:
    """An erased customer's data is not taken in again (their profile keeps only the id)."""
    erased = conn.execute(text(ERASED)).all()
    for line, external_id in erased:
        ctx.rejects.add(line, "customer_id", external_id, "customer was erased; not re-imported")
    if erased:
        for table in (staging.TAGS.name, STAGED):
            conn.execute(text(f"DELETE FROM {table} WHERE external_id IN "
                              f"(SELECT s.external_id FROM ({ERASED}) s)"))
        conn.execute(text(f"DELETE FROM {staging.FLAGS.name} WHERE line NOT IN "
                          f"(SELECT line FROM {STAGED})"))
    return len(erased)
