"""Write a chunk of customers: upsert by retailer id, manual tags, flags, then merge duplicates.

An empty cell never erases a stored value (a file that lacks a phone does not delete it). A
row whose id is the alias of a merged profile only fills that profile's gaps, so importing
both halves of a merged pair again changes nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ingest import staging
from ingest.batches import Batch
from ingest.chunk import Context, record_flags, stage
from ingest.merge import FILLED, fill_gaps, merge_duplicates
from ingest.report import ChunkCounts

COLUMNS = (*FILLED, "timezone")
STAGED = staging.CUSTOMERS.name
IS_ALIAS = (
    "(SELECT a.customer_id FROM customer_aliases a WHERE a.external_id = s.external_id) IS NOT NULL"
)
ALIASED = (
    "SELECT a.customer_id AS target_id, s.line AS ord, "
    + ", ".join(f"s.{c}" for c in FILLED)
    + f" FROM {STAGED} s JOIN customer_aliases a ON a.external_id = s.external_id"
)
UPSERT = f"""
INSERT INTO customers (external_id, {", ".join(COLUMNS)})
SELECT s.external_id, {", ".join(f"s.{c}" for c in COLUMNS)} FROM {STAGED} s
WHERE NOT {IS_ALIAS} ORDER BY s.line
ON CONFLICT (external_id) DO UPDATE SET
    {", ".join(f"{c} = COALESCE(excluded.{c}, customers.{c})" for c in FILLED)},
    timezone = excluded.timezone"""
EXISTING = f"""
SELECT count(*) FROM {STAGED} s
WHERE (SELECT c.id FROM customers c WHERE c.external_id = s.external_id) IS NOT NULL"""
# The customers of the chunk with their match keys, for the merge, and their retailer ids
# (aliases included), for the tags. On PostgreSQL the upsert hands its rows over itself, and
# counts the ones it updated (an inserted row has no xmax).
KEYS = "id, external_id, phone_index, device_id"
IDS = staging.IDS.name
UPSERTED_IDS = f"""
INSERT INTO {IDS} ({KEYS})
SELECT c.id, c.external_id, c.phone_index, c.device_id
FROM {STAGED} s JOIN customers c ON c.external_id = s.external_id"""
UPSERT_RETURNING = f"""
WITH upserted AS ({UPSERT} RETURNING {KEYS}, xmax = 0 AS inserted),
ids AS (INSERT INTO {IDS} ({KEYS}) SELECT {KEYS} FROM upserted)
SELECT count(*) FROM upserted WHERE NOT inserted"""
ALIASED_IDS = f"""
INSERT INTO {IDS} ({KEYS})
SELECT c.id, s.external_id, c.phone_index, c.device_id
FROM {STAGED} s JOIN customer_aliases a ON a.external_id = s.external_id
JOIN customers c ON c.id = a.customer_id"""
# The customer a row names was erased (its own row, or the profile its id was merged into).
ERASED = f"""
SELECT s.line, s.external_id FROM {STAGED} s
WHERE EXISTS (SELECT 1 FROM customers c
              WHERE c.external_id = s.external_id AND c.erased_at IS NOT NULL)
   OR EXISTS (SELECT 1 FROM customer_aliases a JOIN customers c ON c.id = a.customer_id
              WHERE a.external_id = s.external_id AND c.erased_at IS NOT NULL)"""


def write_customers(conn: Connection, ctx: Context, batch: Batch) -> ChunkCounts:
    stage(conn, staging.CUSTOMERS, batch)
    staging.clear(conn, staging.TAGS, staging.IDS)
    staging.load(conn, staging.TAGS, batch.tags)
    rejected = _reject_erased(conn, ctx)
    aliased = conn.execute(text(f"SELECT count(*) FROM {STAGED} s WHERE {IS_ALIAS}")).scalar_one()
    if aliased:
        fill_gaps(conn, ALIASED)
    if conn.dialect.name == "postgresql":
        existing = conn.execute(text(UPSERT_RETURNING)).scalar_one()
    else:
        existing = conn.execute(text(EXISTING)).scalar_one()
        conn.execute(text(UPSERT))
        conn.execute(text(UPSERTED_IDS))
    if aliased:
        conn.execute(text(ALIASED_IDS))
    conn.execute(
        text(f"""
        INSERT INTO customer_tags (customer_id, tag, source)
        SELECT DISTINCT i.id, t.tag, 'manual'
        FROM {staging.TAGS.name} t JOIN {IDS} i ON i.external_id = t.external_id WHERE true
        ON CONFLICT (customer_id, tag) DO NOTHING""")
    )
    flagged = record_flags(conn, ctx, staging.CUSTOMERS, "external_id")
    merged = merge_duplicates(conn, ctx.run_id, ctx.now, keyed=True)
    return ChunkCounts(
        inserted=batch.accepted - rejected - existing - aliased,
        updated=existing + aliased,
        rejected=rejected,
        flagged=flagged,
        merged=merged,
    )


def _reject_erased(conn: Connection, ctx: Context) -> int:
    """An erased customer's data is not taken in again (their profile keeps only the id)."""
    erased = conn.execute(text(ERASED)).all()
    for line, external_id in erased:
        ctx.rejects.add(line, "customer_id", external_id, "customer was erased; not re-imported")
    if erased:
        for table in (staging.TAGS.name, STAGED):
            conn.execute(
                text(
                    f"DELETE FROM {table} WHERE external_id IN "
                    f"(SELECT s.external_id FROM ({ERASED}) s)"
                )
            )
        conn.execute(
            text(f"DELETE FROM {staging.FLAGS.name} WHERE line NOT IN (SELECT line FROM {STAGED})")
        )
    return len(erased)
