"""Append to and verify the audit log: each entry's hash covers the previous entry's hash.

Hashes are HMAC-SHA256 under the audit chain key (outside the database), so whoever can write
`audit_log` cannot recompute the chain after an edit. Entries from before the chain was keyed
carry plain SHA-256 and keep verifying, but only as a prefix: after the first entry that matches
the keyed formula, an entry matching only the plain one fails. So re-hashing from an edit on
without the key fails, unless the tamperer re-hashes every entry from genesis; that changes the
last hash, which the signed head checkpoint (`audit.checkpoint`, moved forward after each commit)
holds, as it also catches deleted last entries and a truncated table."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from audit.checkpoint import ForgedCheckpoint, Head, advance, checkpoint_path, read
from audit.keys import chain_key
from models.tables import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x6F6D6E69  # serializes appends so the chain never forks
_PENDING = "audit_head"  # session.info: (id, hash) of the last entry appended, until commit
log = logging.getLogger(__name__)


def _digest(
    prev: str,
    at: datetime,
    actor: str,
    action: str,
    campaign_id: str | None,
    detail: dict[str, Any],
    key: bytes | None = None,
) -> str:
    doc = json.dumps(
        [prev, at.isoformat(), actor, action, campaign_id, detail],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    ).encode()
    if key is None:  # the unkeyed formula of the entries written before the chain was keyed
        return hashlib.sha256(doc).hexdigest()
    return hmac.new(key, doc, hashlib.sha256).hexdigest()


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    campaign_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry chained to the latest. Callers hold the transaction; its commit moves the
    head checkpoint."""
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
        hash=_digest(prev, at, actor, action, campaign_id, detail, chain_key()),
    )
    session.add(entry)
    session.flush()
    session.info[_PENDING] = (entry.id, entry.hash)
    return entry


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    """Best effort: the entries are committed whatever happens here; a checkpoint that lags
    only protects fewer entries, and the next append catches up."""
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    try:
        advance(session.get_bind().engine, *pending)
    except ForgedCheckpoint as exc:  # left alone: it is evidence
        log.warning("audit checkpoint not moved: %s", exc)
    except Exception:
        log.exception("audit checkpoint not moved to entry %s", pending[0])


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_at: int | None
    reason: str = ""
    findings: tuple[str, ...] = ()  # one line each: the chain's first break, then the head's
    checkpoint: Head | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def _check_chain(session: Session) -> tuple[int, int | None, str, bool]:
    """(entries, first broken id, why, any keyed entry) over every entry in id order."""
    key = chain_key()
    prev, count, keyed = GENESIS, 0, False
    broken: int | None = None
    reason = ""
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        count += 1
        if broken is not None:
            continue
        fields = (prev, e.at, e.actor, e.action, e.campaign_id, e.detail)
        if e.prev_hash != prev:
            broken, reason = e.id, "previous-hash link broken (entry removed or reordered)"
        elif hmac.compare_digest(e.hash, _digest(*fields, key)):
            keyed = True
        elif e.hash != _digest(*fields):
            broken, reason = e.id, "content does not match its hash (entry altered)"
        elif keyed:
            broken, reason = e.id, "hashed without the audit key after keyed entries (rewritten)"
        prev = e.hash
    return count, broken, reason, keyed


def _check_head(
    session: Session, entries: int, keyed: bool, require_checkpoint: bool
) -> tuple[Head | None, list[str]]:
    path = checkpoint_path(session.get_bind().engine.url)
    try:
        head = read(path)
    except ForgedCheckpoint as exc:
        return None, [str(exc)]
    if head is None:
        if require_checkpoint and keyed:
            return None, [f"no audit checkpoint at {path}: its last entries are unprotected"]
        return None, []
    found = []
    if entries < head.entries:
        found.append(
            f"audit log has {entries} entries, its checkpoint {head.entries}: "
            "entries deleted or the table truncated"
        )
    stored = session.execute(
        select(AuditEntry.hash).where(AuditEntry.id == head.last_id)
    ).scalar_one_or_none()
    if stored is None:
        found.append(
            f"checkpointed entry {head.last_id} is missing: last entries deleted "
            "or the table truncated"
        )
    elif stored != head.last_hash:
        found.append(
            f"entry {head.last_id} differs from its checkpointed hash: the log was rewritten"
        )
    return head, found


def verify(session: Session, *, require_checkpoint: bool = False) -> ChainCheck:
    """Recompute every hash in order (reporting the first entry that does not match), then
    compare the table with the signed head checkpoint. `require_checkpoint`: a keyed log without
    a checkpoint fails (the CLI; in-process callers may verify before their first commit)."""
    entries, broken, reason, keyed = _check_chain(session)
    findings = [] if broken is None else [f"audit chain broken at entry {broken}: {reason}"]
    head, head_findings = _check_head(session, entries, keyed, require_checkpoint)
    return ChainCheck(entries, broken, reason, tuple(findings + head_findings), head)
