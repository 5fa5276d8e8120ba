"""The track API's sources: who may post events, and the key each one authenticates with.

An HMAC source's secret is needed in clear to check a signature, so it is stored encrypted
under the PII key ring (rotated with it); a bearer source's token is only compared, so only its
SHA-256 is stored. Neither is ever stored or shown in clear after `track-sources add`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, UtcDateTime

SECRET_FIELD = "track_secret"  # the field name bound into an HMAC secret's ciphertext
EVENT_PII_FIELD = "event_pii"  # and into behavior_events.pii_enc's


class TrackSource(Base):
    __tablename__ = "track_sources"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    auth: Mapped[str] = mapped_column(String(8))  # "hmac" or "bearer"
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # hmac
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # bearer
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
