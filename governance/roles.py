"""Roles held by people: approver, compliance_officer, operator, admin.

Only an admin grants or revokes. Bootstrap: while no admin exists, the one thing anybody may
do is grant the `admin` role (`roles grant alice admin --as alice`), so a fresh installation
can get its first admin; from then on an admin is required, and the last admin cannot be
revoked (that would reopen the bootstrap door). Names compare as `models.identity` makes them,
as the workflow compares requester and approver. Every change goes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from audit.log import append as audit
from models.governance_tables import UserRole
from models.identity import identity

ROLES = ("approver", "compliance_officer", "operator", "admin")
ADMIN = "admin"
_LOCK_KEY = 0x726F6C6573  # role changes one at a time: two bootstraps cannot both win


class NotAllowed(PermissionError):
    """The person may not do this; the message says why."""


@dataclass(frozen=True)
class RoleGrant:
    user: str
    role: str
    granted_by: str
    granted_at: datetime


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role: unknown role {role!r} (one of {', '.join(ROLES)})")
    return role


def has_role(session: Session, user: str, role: str) -> bool:
    return session.get(UserRole, (identity(user), _role(role))) is not None


def _admins(session: Session) -> int:
    query = select(func.count()).select_from(UserRole).where(UserRole.role == ADMIN)
    return session.execute(query).scalar_one()


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def _require_admin(session: Session, by: str, what: str) -> None:
    if not has_role(session, by, ADMIN):
        raise NotAllowed(f"{by} is not an admin and cannot {what}")


def grant(session: Session, user: str, role: str, *, by: str, at: datetime) -> bool:
    """Give `user` the role; returns False if they already hold it."""
    user, role, by = identity(user), _role(role), identity(by)
    _lock(session)
    bootstrap = _admins(session) == 0
    if bootstrap and role != ADMIN:
        raise NotAllowed(
            "no admin exists yet: the first grant must be the admin role "
            "(roles grant NAME admin --as NAME)"
        )
    if not bootstrap:
        _require_admin(session, by, f"grant {role}")
    if session.get(UserRole, (user, role)) is not None:
        return False
    session.add(UserRole(user=user, role=role, granted_by=by, granted_at=at))
    audit(
        session,
        at=at,
        actor=by,
        action="role_granted",
        detail={"user": user, "role": role, "bootstrap": bootstrap},
    )
    return True


def revoke(session: Session, user: str, role: str, *, by: str, at: datetime) -> bool:
    """Take the role away; returns False if `user` did not hold it."""
    user, role, by = identity(user), _role(role), identity(by)
    _lock(session)
    _require_admin(session, by, f"revoke {role}")
    if session.get(UserRole, (user, role)) is None:
        return False
    if role == ADMIN and _admins(session) == 1:
        raise NotAllowed(f"{user} is the last admin; grant admin to someone else first")
    session.execute(delete(UserRole).where(UserRole.user == user, UserRole.role == role))
    audit(session, at=at, actor=by, action="role_revoked", detail={"user": user, "role": role})
    return True


def list_roles(session: Session) -> list[RoleGrant]:
    rows = session.execute(select(UserRole).order_by(UserRole.user, UserRole.role)).scalars()
    return [RoleGrant(r.user, r.role, r.granted_by, r.granted_at) for r in rows]
