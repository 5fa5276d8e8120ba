"""The audit log's head (entry count, last id, last hash) kept outside the database, in a file
signed with the checkpoint key: whoever can write `audit_log` (but not this file, nor the key)
cannot delete its last entries, truncate it or rewrite it without `verify` noticing.

Writers only move it forward: under an flock, to a larger count, and only while the table still
holds the checkpointed entry unchanged, so a tampered table never becomes the new reference (a
forged or unreadable file is left alone as evidence). It is replaced atomically (os.replace).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, func, select
from sqlalchemy.orm import Session

from audit.keys import checkpoint_key
from models.tables import AuditEntry
from settings import settings

log = logging.getLogger(__name__)


class ForgedCheckpoint(ValueError):
    """The checkpoint file is not one this key signed."""


@dataclass(frozen=True)
class Head:
    entries: int
    last_id: int
    last_hash: str


def checkpoint_path(url: URL) -> Path:
    """`OMNIREACH_AUDIT_CHECKPOINT`, else one file per database beside the demo key file (var/),
    so demo and test databases never share a head."""
    explicit = settings().audit_checkpoint
    if explicit:
        return explicit
    where = f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database or ''}"
    slug = hashlib.sha256(where.encode()).hexdigest()[:16]
    folder = settings().key_file.parent
    return folder / f"audit-checkpoint-{slug}.json"


def _sign(head: Head, key: bytes) -> str:
    doc = json.dumps([head.entries, head.last_id, head.last_hash])
    return hmac.new(key, doc.encode(), hashlib.sha256).hexdigest()


def read(path: Path, key: bytes | None = None) -> Head | None:
    """The signed head; None when there is no checkpoint yet."""
    try:
        doc = json.loads(path.read_text())
        head = Head(int(doc["entries"]), int(doc["last_id"]), str(doc["last_hash"]))
        sig = str(doc["sig"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ForgedCheckpoint(f"checkpoint {path} is unreadable ({type(exc).__name__})") from None
    if not hmac.compare_digest(sig, _sign(head, key or checkpoint_key())):
        raise ForgedCheckpoint(f"checkpoint {path} has an invalid signature (forged or altered)")
    return head


def _write(path: Path, head: Head, key: bytes) -> None:
    doc = {"entries": head.entries, "last_id": head.last_id, "last_hash": head.last_hash}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(doc | {"sig": _sign(head, key)}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serializes writers across threads and processes (a separate file: os.replace swaps the
    checkpoint's inode, which would void a lock held on it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def holds(db: Connection | Session, head: Head) -> bool:
    """Whether the table still has the head's last entry, with the head's hash."""
    stored = db.execute(
        select(AuditEntry.hash).where(AuditEntry.id == head.last_id)
    ).scalar_one_or_none()
    return stored == head.last_hash


def advance(engine: Engine, last_id: int, last_hash: str, path: Path | None = None) -> bool:
    """Move the checkpoint to a committed entry if that is forward; returns whether it moved."""
    path = path or checkpoint_path(engine.url)
    key = checkpoint_key()
    with _locked(path), engine.connect() as conn:
        current = read(path, key)
        entries = conn.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= last_id)
        ).scalar_one()
        head = Head(entries, last_id, last_hash)
        if current is not None and current.entries >= entries:
            return False
        if current is not None and not holds(conn, current):
            log.warning(
                "audit checkpoint kept at entry %s: the table no longer holds it as "
                "checkpointed (run `audit --verify`)",
                current.last_id,
            )
            return False
        if not holds(conn, head):  # not committed after all (rolled back savepoint)
            return False
        _write(path, head, key)
        return True
