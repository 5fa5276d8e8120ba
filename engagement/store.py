"""Finding the send an event belongs to, and storing events once.

Look-ups are one query per batch of keys (a provider pushes hundreds of receipts at a time):
by planned send id (our tracking links), by idempotency key (Alibaba `out_id`, call-center
`task_id`) or by the provider's message id on the made send (Tencent `sid`, WeChat `MsgID`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.upsert import insert_ignore
from engagement.events import Link, NewEvent
from models.engagement_tables import MessageEvent
from models.tables import Delivery, PlannedSend

CHUNK = 1000
K = TypeVar("K")


def _chunks(keys: Iterable[K]) -> Iterator[list[K]]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def _planned(key: Any) -> Select[Any]:
    ps = PlannedSend
    return select(key, ps.id, ps.campaign_id, ps.customer_id, ps.channel)


def _collect(rows: Iterable[Sequence[Any]]) -> dict[Any, Link]:
    return {
        key: Link(int(ps_id), campaign, int(customer), channel)
        for key, ps_id, campaign, customer, channel in rows
    }


def links_by_planned_send(session: Session, ids: Iterable[int]) -> dict[int, Link]:
    found: dict[int, Link] = {}
    for part in _chunks(ids):
        found |= _collect(
            session.execute(_planned(PlannedSend.id).where(PlannedSend.id.in_(part))).all()
        )
    return found


def links_by_idempotency_key(session: Session, keys: Iterable[str]) -> dict[str, Link]:
    found: dict[str, Link] = {}
    for part in _chunks(keys):
        found |= _collect(
            session.execute(
                _planned(PlannedSend.idempotency_key).where(PlannedSend.idempotency_key.in_(part))
            ).all()
        )
    return found


def links_by_provider_id(
    session: Session, channels: Collection[str], ids: Iterable[str]
) -> dict[str, Link]:
    """Made sends on `channels` by the provider's message id (one send per id)."""
    d = Delivery
    found: dict[str, Link] = {}
    for part in _chunks(ids):
        found |= _collect(
            session.execute(
                select(
                    d.provider_message_id,
                    d.planned_send_id,
                    d.campaign_id,
                    d.customer_id,
                    d.channel,
                ).where(d.provider_message_id.in_(part), d.channel.in_(list(channels)))
            ).all()
        )
    return found


def record(session: Session, events: Sequence[NewEvent], received_at: datetime) -> int:
    """Store events not stored before (by dedupe key); returns how many were new."""
    rows = list({row["dedupe_key"]: row for row in (e.row(received_at) for e in events)}.values())
    return insert_ignore(session, MessageEvent.__table__, rows, ["dedupe_key"])
