"""Store a batch of valid events in behavior_events, the table file imports write, in the
caller's transaction: the service answers only after it commits.

Customers are resolved as the import resolves them (the retailer's id, or the profile it was
merged into); an event naming no known customer is rejected. A source's event id already stored
is a duplicate, left alone (ON CONFLICT on (source_id, external_id), so two requests racing with
one event store it once). On PostgreSQL the import lock is taken shared, as event imports take
it: a customer import's merges cannot delete a customer under a batch being stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.among import among
from db.upsert import insert_new
from ingest.run import CUSTOMER_IMPORT_LOCK
from models.ingest_tables import CustomerAlias
from models.tables import BehaviorEvent, Customer
from track.events import Event

EVENTS = BehaviorEvent.__table__


@dataclass
class Stored:
    accepted: set[int]  # indexes of events stored now
    duplicates: set[int]  # indexes of events this source had sent before
    unknown: set[int]  # indexes naming no known customer


def _customers(session: Session, refs: set[str]) -> dict[str, int]:
    found = dict(
        session.execute(
            select(Customer.external_id, Customer.id).where(
                among(session, Customer.external_id, refs)
            )
        ).all()
    )
    if missing := refs - found.keys():
        found |= dict(
            session.execute(
                select(CustomerAlias.external_id, CustomerAlias.customer_id).where(
                    among(session, CustomerAlias.external_id, missing)
                )
            ).all()
        )
    return found


def store(session: Session, source_id: int, events: list[Event], received_at: datetime) -> Stored:
    """Insert `events` of `source_id`; a repeated event id within the batch counts once."""
    result = Stored(set(), set(), set())
    if not events:
        return result
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock_shared(CUSTOMER_IMPORT_LOCK)))
    customers = _customers(session, {e.customer_ref for e in events})
    rows: list[dict[str, Any]] = []
    first: dict[str, int] = {}
    for e in events:
        customer = customers.get(e.customer_ref)
        if customer is None:
            result.unknown.add(e.index)
        elif first.setdefault(e.event_id, e.index) != e.index:
            result.duplicates.add(e.index)
        else:
            rows.append(
                {
                    "customer_id": customer,
                    "event_type": e.event_type,
                    "occurred_at": e.occurred_at,
                    "channel": e.channel,
                    "source_id": source_id,
                    "external_id": e.event_id,
                    "received_at": received_at,
                    "properties": e.properties,
                    "pii_enc": e.pii_enc,
                }
            )
    if not rows:
        return result
    inserted = set(insert_new(session, EVENTS, rows, ("source_id", "external_id"), "external_id"))
    for event_id in (row["external_id"] for row in rows):
        index = first[event_id]
        (result.accepted if event_id in inserted else result.duplicates).add(index)
    return result
