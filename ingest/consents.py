"""Append consent records to the ledger, only where they change the state it already holds.

The ledger is append-only and its newest event per (customer, channel, purpose) is the
current state. So a row is appended only if it is newer than every event of its key and differs
from the state before it (granted, wording version): an older grant would override a later
opt-out. Rows dated in the future were rejected when read (models.consent_terms.CLOCK_SKEW).
Re-importing the same file therefore appends nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ingest import staging
from ingest.batches import Batch
from ingest.chunk import Context, record_flags, resolve_customers, stage
from ingest.report import ChunkCounts

# A key's newest ledger event (by id) and latest time, by index lookups (scalar subqueries),
# whatever the table's size.
_LATEST = """(SELECT e.{col} FROM consent_events e WHERE e.id = x.last_id)"""
_OF_KEY = """(SELECT {agg} FROM consent_events e WHERE e.customer_id = {s}.customer_id
            AND e.channel = {s}.channel AND e.purpose = {s}.purpose)"""
APPEND = f"""
INSERT INTO consent_events (customer_id, channel, purpose, granted, source, wording_version,
                            recorded_at)
SELECT customer_id, channel, purpose, granted, source, wording_version, recorded_at FROM (
    SELECT x.*,
           ROW_NUMBER() OVER w AS rn,
           LAG(x.granted) OVER w AS prev_granted,
           LAG(x.wording_version) OVER w AS prev_wording,
           {_LATEST.format(col="granted")} AS last_granted,
           {_LATEST.format(col="wording_version")} AS last_wording
    FROM (
        SELECT s.*, {_OF_KEY.format(s="s", agg="MAX(e.id)")} AS last_id
        FROM {staging.CONSENTS.name} s
    ) x
    WHERE x.last_id IS NULL OR x.recorded_at > {_OF_KEY.format(s="x", agg="MAX(e.recorded_at)")}
    WINDOW w AS (PARTITION BY x.customer_id, x.channel, x.purpose ORDER BY x.recorded_at, x.line)
) y
WHERE CASE WHEN y.rn = 1
    THEN y.last_id IS NULL OR y.granted <> y.last_granted
         OR y.wording_version IS DISTINCT FROM y.last_wording
    ELSE y.granted <> y.prev_granted OR y.wording_version IS DISTINCT FROM y.prev_wording
    END
ORDER BY y.recorded_at, y.line
"""


def write_consents(conn: Connection, ctx: Context, batch: Batch) -> ChunkCounts:
    stage(conn, staging.CONSENTS, batch)
    rejected = resolve_customers(conn, ctx, staging.CONSENTS)
    inserted = conn.execute(text(APPEND)).rowcount
    flagged = record_flags(conn, ctx, staging.CONSENTS, "record_key")
    return ChunkCounts(
        inserted=inserted,
        unchanged=batch.accepted - rejected - inserted,
        rejected=rejected,
        flagged=flagged,
    )
