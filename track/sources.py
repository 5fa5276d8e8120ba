"""Track API sources and their keys: add (the key is shown once), list, revoke, and the check
of a request's credentials.

A source authenticates with either
- `hmac`: `X-Omnireach-Source: NAME` and the signature headers of channels.signing, an
  HMAC-SHA256 over "<timestamp>." + body; a timestamp outside the skew window is refused,
  so a captured request cannot be replayed later (and within the window, its events are
  duplicates). The secret is stored encrypted under the PII key ring, since checking needs it.
- `bearer`: `Authorization: Bearer TOKEN`; only the token's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.log import append as audit
from channels.signing import DEFAULT_TOLERANCE, verify_signature
from models.track_tables import SECRET_FIELD, TrackSource
from privacy.cipher import decrypt, encrypt

Auth = Literal["hmac", "bearer"]
AUTHS: tuple[Auth, ...] = ("hmac", "bearer")
SOURCE_HEADER = "x-omnireach-source"
SKEW_SECONDS = DEFAULT_TOLERANCE
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class SourceError(ValueError):
    """An operator's request about sources that cannot be done (message says why)."""


@dataclass(frozen=True)
class SourceRow:
    name: str
    auth: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_source(session: Session, name: str, auth: str, *, by: str, at: datetime) -> str:
    """Create a source; returns its key, which is stored only encrypted or hashed."""
    if not _NAME.fullmatch(name):
        raise SourceError(f"name {name!r}: letters, digits, . _ - (at most 64, no leading sign)")
    if auth not in AUTHS:
        raise SourceError(f"auth {auth!r}: use one of {', '.join(AUTHS)}")
    if session.execute(select(TrackSource.id).where(TrackSource.name == name)).first():
        raise SourceError(f"a source named {name!r} exists (revoked sources keep their name)")
    key = ("trk_" if auth == "bearer" else "") + secrets.token_urlsafe(32)
    session.add(
        TrackSource(
            name=name,
            auth=auth,
            secret_enc=encrypt(key, SECRET_FIELD) if auth == "hmac" else None,
            token_hash=token_hash(key) if auth == "bearer" else None,
            created_by=by,
            created_at=at,
        )
    )
    audit(
        session, at=at, actor=by, action="track_source.added", detail={"name": name, "auth": auth}
    )
    return key


def list_sources(session: Session) -> list[SourceRow]:
    rows = session.execute(
        select(
            TrackSource.name,
            TrackSource.auth,
            TrackSource.created_by,
            TrackSource.created_at,
            TrackSource.revoked_at,
        ).order_by(TrackSource.name)
    )
    return [SourceRow(*row) for row in rows]


def revoke_source(session: Session, name: str, *, by: str, at: datetime) -> bool:
    """Refuse the source's key from now on; False if it was already revoked."""
    found = session.execute(
        select(TrackSource.id, TrackSource.revoked_at).where(TrackSource.name == name)
    ).first()
    if found is None:
        raise SourceError(f"no source named {name!r}")
    if found.revoked_at is not None:
        return False
    session.execute(
        update(TrackSource)
        .where(TrackSource.id == found.id)
        .values(revoked_at=at, revoked_by=by, token_hash=None)
    )
    audit(session, at=at, actor=by, action="track_source.revoked", detail={"name": name})
    return True


def authenticate(
    session: Session, headers: Mapping[str, str], body: bytes, now: float
) -> int | None:
    """The id of the live source whose key signed (or bears) this request, else None."""
    bearer = headers.get("authorization", "")
    if bearer[:7].lower() == "bearer ":
        live = session.execute(
            select(TrackSource.id).where(
                TrackSource.token_hash == token_hash(bearer[7:].strip()),
                TrackSource.auth == "bearer",
                TrackSource.revoked_at.is_(None),
            )
        ).scalar()
        return live
    name = headers.get(SOURCE_HEADER)
    if not name:
        return None
    row = session.execute(
        select(TrackSource.id, TrackSource.secret_enc).where(
            TrackSource.name == name, TrackSource.auth == "hmac", TrackSource.revoked_at.is_(None)
        )
    ).first()
    if row is None or row.secret_enc is None:
        return None
    secret = decrypt(row.secret_enc, SECRET_FIELD)
    ok = verify_signature(secret, headers, body, tolerance=SKEW_SECONDS, now=now)
    return int(row.id) if ok else None
