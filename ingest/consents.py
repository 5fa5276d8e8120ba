"""Append consent records to the ledger, only where they change the state it already holds.

The ledger is append-only and its newest event per (customer, channel, purpose) is the
current state. So a row is appended only if it is newer than that event and differs from the
state before it (granted, wording version); older rows would wrongly override a later opt-out.
Re-importing the same file therefore appends nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ingest import staging
from ingest.chunk import Context, record_flags, resolve_customers, stage
from ingest.report import ChunkCounts
from ingest.rows import Parsed

APPEND = f"""
INSERT INTO consent_events (customer_id, channel, purpose, granted, source, wording_version,
                            recorded_at)
SELECT customer_id, channel, purpose, granted, source, wording_version, recorded_at FROM (
    SELECT s.customer_id, s.channel, s.purpose, s.granted, s.source, s.wording_version,
           s.recorded_at, s.line,
           ROW_NUMBER() OVER w AS rn,
           LAG(s.granted) OVER w AS prev_granted,
           LAG(s.wording_version) OVER w AS prev_wording,
           l.id AS last_id, l.granted AS last_granted, l.wording_version AS last_wording
    FROM {staging.CONSENTS.name} s
    LEFT JOIN consent_events l ON l.id = (
        SELECT MAX(e.id) FROM consent_events e
        WHERE e.customer_id = s.customer_id AND e.channel = s.channel AND e.purpose = s.purpose)
    WHERE l.id IS NULL OR s.recorded_at > l.recorded_at
    WINDOW w AS (PARTITION BY s.customer_id, s.channel, s.purpose ORDER BY s.recorded_at, s.line)
) x
WHERE CASE WHEN x.rn = 1
    THEN x.last_id IS NULL OR x.granted <> x.last_granted
         OR x.wording_version IS DISTINCT FROM x.last_wording
    ELSE x.granted <> x.prev_granted OR x.wording_version IS DISTINCT FROM x.prev_wording
    END
ORDER BY x.recorded_at, x.line
"""


def write_consents(conn: Connection, ctx: Context, chunk: list[Parsed]) -> ChunkCounts:
    stage(conn, staging.CONSENTS, chunk)
    rejected = resolve_customers(conn, ctx, staging.CONSENTS)
    inserted = conn.execute(text(APPEND)).rowcount
    flagged = record_flags(conn, ctx, staging.CONSENTS, "record_key")
    return ChunkCounts(inserted=inserted, unchanged=len(chunk) - rejected - inserted,
                       rejected=rejected, flagged=flagged)
