"""Write chunks of orders and behavior events: upsert by the retailer's ids, set-based.

Orders are replaced by order_id (an unchanged order is not rewritten). Events are immutable
facts: one with a known event_id, or without one but with the same customer, type and time as
a stored event, is already there and is left alone.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ingest import staging
from ingest.batches import Batch
from ingest.chunk import Context, record_flags, resolve_customers, stage
from ingest.report import ChunkCounts

ORDER_COLUMNS = ("customer_id", "ordered_at", "amount", "category", "store")
# A chunk of only new orders (the usual case) skips ON CONFLICT, which costs a third more.
INSERT_ORDERS = f"""
INSERT INTO orders (external_id, {", ".join(ORDER_COLUMNS)})
SELECT external_id, {", ".join(ORDER_COLUMNS)} FROM {staging.ORDERS.name}"""
UPSERT_ORDERS = f"""{INSERT_ORDERS} WHERE true
ON CONFLICT (external_id) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in ORDER_COLUMNS)}
WHERE {" OR ".join(f"orders.{c} IS DISTINCT FROM excluded.{c}" for c in ORDER_COLUMNS)}"""


RECORD_KEYS = f"""
INSERT INTO imported_event_keys (event_id, run_id)
SELECT event_key, :run FROM {staging.EVENTS.name} WHERE event_key IS NOT NULL
ON CONFLICT (event_id) DO NOTHING"""
# An event without a key is new if no stored event has its customer, type and time.
UNKEYED_IS_NEW = """(SELECT e.id FROM behavior_events e WHERE e.customer_id = s.customer_id
    AND e.occurred_at = s.occurred_at AND e.event_type = s.event_type LIMIT 1) IS NULL"""
EVENT_ROWS = f"""
INSERT INTO behavior_events (customer_id, event_type, occurred_at, channel)
SELECT s.customer_id, s.event_type, s.occurred_at, s.channel FROM {staging.EVENTS.name} s"""
# PostgreSQL: a keyed event goes in only if claiming its key inserted it (no separate probe).
INSERT_EVENTS = f"""WITH fresh AS ({RECORD_KEYS} RETURNING event_id) {EVENT_ROWS}
WHERE CASE WHEN s.event_key IS NOT NULL THEN s.event_key IN (SELECT event_id FROM fresh)
    ELSE {UNKEYED_IS_NEW} END"""
# SQLite has no INSERT inside WITH: probe the known keys, then record the new ones.
INSERT_EVENTS_PROBING = f"""{EVENT_ROWS}
WHERE CASE WHEN s.event_key IS NOT NULL
    THEN (SELECT k.event_id FROM imported_event_keys k WHERE k.event_id = s.event_key) IS NULL
    ELSE {UNKEYED_IS_NEW} END"""


def write_orders(conn: Connection, ctx: Context, batch: Batch) -> ChunkCounts:
    table = staging.ORDERS.name
    stage(conn, staging.ORDERS, batch)
    rejected = resolve_customers(conn, ctx, staging.ORDERS)
    existing = conn.execute(
        text(f"""
        SELECT count(*) FROM {table} s
        WHERE (SELECT o.id FROM orders o WHERE o.external_id = s.external_id) IS NOT NULL""")
    ).scalar_one()
    written = conn.execute(text(UPSERT_ORDERS if existing else INSERT_ORDERS)).rowcount
    conn.execute(
        text(f"""
        INSERT INTO {staging.FLAGS.name} (line, record_key, customer_ref, code, detail)
        SELECT s.line, s.record_key, s.customer_ref, 'order_before_registration',
               'ordered_at is before the customer registered'
        FROM {table} s WHERE s.ordered_at < s.registered_at""")
    )
    flagged = record_flags(conn, ctx, staging.ORDERS, "record_key")
    inserted = batch.accepted - rejected - existing
    updated = written - inserted
    return ChunkCounts(
        inserted=inserted,
        updated=updated,
        unchanged=existing - updated,
        rejected=rejected,
        flagged=flagged,
    )


def write_events(conn: Connection, ctx: Context, batch: Batch) -> ChunkCounts:
    stage(conn, staging.EVENTS, batch)
    rejected = resolve_customers(conn, ctx, staging.EVENTS)
    if conn.dialect.name == "postgresql":
        inserted = conn.execute(text(INSERT_EVENTS), {"run": ctx.run_id}).rowcount
    else:
        inserted = conn.execute(text(INSERT_EVENTS_PROBING)).rowcount
        conn.execute(text(RECORD_KEYS), {"run": ctx.run_id})
    flagged = record_flags(conn, ctx, staging.EVENTS, "record_key")
    accepted = batch.accepted - rejected
    return ChunkCounts(
        inserted=inserted, unchanged=accepted - inserted, rejected=rejected, flagged=flagged
    )
