"""Append to and verify the audit log; each entry's hash covers the previous entry's hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models.tables import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x6F6D6E69  # serializes appends so the chain never forks


def _digest(
    prev: str,
    at: datetime,
    actor: str,
    action: str,
    campaign_id: str | None,
    detail: dict[str, Any],
) -> str:
    doc = json.dumps(
        [prev, at.isoformat(), actor, action, campaign_id, detail],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(doc.encode()).hexdigest()


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    campaign_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry chained to the latest. Callers hold the transaction."""
    detail = detail or {}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = last or GENESIS
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        campaign_id=campaign_id,
        detail=detail,
        prev_hash=prev,
        hash=_digest(prev, at, actor, action, campaign_id, detail),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_at: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainCheck:
    """Recompute every hash in order; report the first entry that does not match."""
    prev, count = GENESIS, 0
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        count += 1
        if entry.prev_hash != prev:
            return ChainCheck(
                count, entry.id, "previous-hash link broken (entry removed or reordered)"
            )
        expected = _digest(
            prev, entry.at, entry.actor, entry.action, entry.campaign_id, entry.detail
        )
        if entry.hash != expected:
            return ChainCheck(count, entry.id, "content does not match its hash (entry altered)")
        prev = entry.hash
    return ChainCheck(count, None)
