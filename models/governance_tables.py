"""Tables of the governance area: who holds which role, whose keys sign decisions, which signed
statements were already used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UtcDateTime


class UserRole(Base):
    """One role held by one user; revoking deletes the row (the history is in the audit log)."""

    __tablename__ = "user_roles"
    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonKey(Base):
    """An enrolled public key (Ed25519): decisions signed with its private key count as `person`.
    The private key never reaches the database."""

    __tablename__ = "person_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person: Mapped[str] = mapped_column(String(100), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    enrolled_by: Mapped[str] = mapped_column(String(100))
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UsedStatement(Base):
    """A signed statement's nonce once it counted: the same statement cannot count twice
    (a retry of the same update may present it again; `use` says which update used it)."""

    __tablename__ = "used_statements"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    use: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)
