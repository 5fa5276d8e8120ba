"""Key rotation: re-encrypt every PII ciphertext under the ring's active key, in batches.

Put the new key first in OMNIREACH_PII_KEYS (keeping the old ones), restart, run
`python starter.py rotate-keys`; once it reports 0 left, the old keys can be removed. Only
ciphertexts made under another key are touched (their key-id prefix differs), so the job can
be stopped and rerun; each batch commits. Blind indexes use a separate key and are unchanged.
An administrator's act on the keys, recorded in the audit log: it sits with governance, above
audit, while privacy keeps only the ring and the cipher.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from audit.log import append as audit
from models.compliance_tables import CallEvidence, CallWhitelistEntry
from models.tables import Base, BehaviorEvent, Customer, SandboxOutbox
from models.track_tables import EVENT_PII_FIELD, SECRET_FIELD, TrackSource
from privacy.cipher import DecryptionError, reencrypt
from privacy.keys import KeyRing, keyring

# table → (attribute, field name bound into the ciphertext)
TARGETS: dict[type[Base], tuple[tuple[InstrumentedAttribute[Any], str], ...]] = {
    Customer: (
        (Customer.name_enc, "name"),
        (Customer.phone_enc, "phone"),
        (Customer.email_enc, "email"),
        (Customer.address_enc, "address"),
    ),
    SandboxOutbox: ((SandboxOutbox.address_enc, "address_outbox"),),
    CallWhitelistEntry: ((CallWhitelistEntry.phone_enc, "phone"),),
    CallEvidence: ((CallEvidence.callee_enc, "phone"),),
    BehaviorEvent: ((BehaviorEvent.pii_enc, EVENT_PII_FIELD),),
    TrackSource: ((TrackSource.secret_enc, SECRET_FIELD),),
}


class RotationError(RuntimeError):
    """A ciphertext could not be re-encrypted (its key is no longer in the ring)."""


def _prefix(ring: KeyRing) -> bytes:
    kid = ring.active_id.encode()
    return b"\x01" + bytes([len(kid)]) + kid


def _stale(column: InstrumentedAttribute[Any], prefix: bytes) -> Any:
    return (column.is_not(None)) & (func.substr(column, 1, len(prefix)) != prefix)


def _rotate_table(
    session: Session,
    table: type[Base],
    columns: Sequence[tuple[Any, str]],
    ring: KeyRing,
    batch: int,
) -> int:
    prefix, last, done = _prefix(ring), 0, 0
    pk = table.__table__.c.id
    stale = or_(*(_stale(col, prefix) for col, _ in columns))
    while True:
        rows = session.execute(
            select(pk, *(col for col, _ in columns))
            .where(pk > last, stale)
            .order_by(pk)
            .limit(batch)
        ).all()
        if not rows:
            return done
        changes = []
        for row in rows:
            values: dict[str, Any] = {"id": row[0]}
            for (col, field), blob in zip(columns, row[1:], strict=True):
                try:
                    new = reencrypt(blob, field, ring)
                except DecryptionError as exc:
                    raise RotationError(
                        f"{table.__tablename__}.{col.key} row {row[0]}: {exc}"
                    ) from exc
                values[col.key] = new
                done += new is not blob
            changes.append(values)
        session.execute(update(table), changes)
        session.commit()
        last = rows[-1][0]


def rotate_keys(session: Session, batch: int = 5000, ring: KeyRing | None = None) -> int:
    """Re-encrypt stale ciphertexts under the active key; returns how many were re-encrypted."""
    if batch < 1:
        raise ValueError(f"batch: must be at least 1, got {batch}")
    ring = ring or keyring()
    total = sum(_rotate_table(session, t, cols, ring, batch) for t, cols in TARGETS.items())
    if total:
        audit(
            session,
            at=datetime.now(UTC),
            actor="system:rotate-keys",
            action="keys_rotated",
            detail={"active_key": ring.active_id, "ciphertexts": total},
        )
    return total
