"""Tables of the governance area: who holds which role (approver, compliance officer, …)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UtcDateTime


class UserRole(Base):
    """One role held by one user; revoking deletes the row (the history is in the audit log)."""

    __tablename__ = "user_roles"
    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
