"""Enrolled people and the statements they sign: who decides is proven, not typed.

An admin enrolls each person's public key (the first admin once, by `setup-admin` where the
database is); from then on a decision or a role change counts only as a statement signed by an
enrolled, unrevoked key of the person it names, dated within a few minutes, never used before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from audit.log import append as audit
from governance.roles import ADMIN, NotAllowed, grant, has_role, revoke
from governance.signing import (
    BadSignature,
    Signed,
    Statement,
    check_signature,
    key_id,
    parse_public,
)
from models.governance_tables import PersonKey, UsedStatement, UserRole
from models.identity import identity

SKEW = timedelta(minutes=10)  # a statement older or newer than this is refused
_LOCK_KEY = 0x656E726F6C  # enrolments one at a time: two bootstraps cannot both win


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def _enroll(session: Session, person: str, public: str, by: str, at: datetime) -> str:
    parse_public(public)
    kid = key_id(public)
    if session.get(PersonKey, kid) is not None:
        raise NotAllowed(f"key {kid} is already enrolled")
    session.add(
        PersonKey(
            key_id=kid, person=person, public_key=public.strip(), enrolled_by=by, enrolled_at=at
        )
    )
    audit(
        session,
        at=at,
        actor=by,
        action="key_enrolled",
        detail={"person": person, "key_id": kid, "public_key": public.strip()},
    )
    return kid


def enrolled_admins(session: Session) -> int:
    return len(
        session.execute(
            select(PersonKey.person)
            .join(UserRole, UserRole.user == PersonKey.person)
            .where(UserRole.role == ADMIN, PersonKey.revoked_at.is_(None))
            .distinct()
        ).all()
    )


def bootstrap_admin(session: Session, person: str, public: str, at: datetime) -> str:
    """The first admin, once: refused as soon as any admin has an enrolled key."""
    person = identity(person)
    _lock(session)
    if enrolled_admins(session):
        raise NotAllowed("an admin is already enrolled: ask an admin to enroll you")
    kid = _enroll(session, person, public, person, at)
    if not has_role(session, person, ADMIN):
        session.add(UserRole(user=person, role=ADMIN, granted_by=person, granted_at=at))
    audit(session, at=at, actor=person, action="admin_bootstrapped", detail={"key_id": kid})
    return kid


def enroll(session: Session, signed: Signed, person: str, public: str, at: datetime) -> str:
    """Enroll `person`'s public key, on an admin's signed statement."""
    person = identity(person)
    _lock(session)
    statement = accept(
        session, signed, kind="enroll", subject=f"{person}:{key_id(public)}", use="enroll", at=at
    )
    require_admin(session, statement.by, "enroll people")
    return _enroll(session, person, public, statement.by, at)


def revoke_key(session: Session, signed: Signed, kid: str, at: datetime) -> None:
    """Revoke an enrolled key, on an admin's signed statement: its statements stop counting."""
    _lock(session)
    statement = accept(session, signed, kind="revoke_key", subject=kid, use="revoke_key", at=at)
    require_admin(session, statement.by, "revoke keys")
    key = session.get(PersonKey, kid)
    if key is None or key.revoked_at is not None:
        raise NotAllowed(f"key {kid} is not an enrolled, active key")
    key.revoked_at = at
    audit(
        session,
        at=at,
        actor=statement.by,
        action="key_revoked",
        detail={"person": key.person, "key_id": kid, "signed": signed.model_dump()},
    )


def require_admin(session: Session, person: str, what: str) -> None:
    if not has_role(session, person, ADMIN):
        raise NotAllowed(f"{person} is not an admin and cannot {what}")


def accept(
    session: Session, signed: Signed | None, *, kind: str, subject: str, use: str, at: datetime
) -> Statement:
    """The statement, if it may count now; NotAllowed naming the reason otherwise. `use` names
    what it is spent on: a retry of that same use may present it again, nothing else may."""
    if signed is None:
        raise NotAllowed(f"unsigned {kind}: sign it with your enrolled key (--key FILE)")
    key = session.get(PersonKey, signed.key_id)
    if key is None:
        raise NotAllowed(f"key {signed.key_id} is not enrolled")
    if key.revoked_at is not None and key.revoked_at <= at:
        raise NotAllowed(f"key {signed.key_id} of {key.person} was revoked")
    try:
        statement = check_signature(key.public_key, signed)
    except BadSignature as exc:
        raise NotAllowed(f"{kind} refused: {exc}") from None
    if identity(statement.by) != key.person:
        raise NotAllowed(f"key {signed.key_id} belongs to {key.person}, not {statement.by}")
    if (statement.kind, statement.subject) != (kind, subject):
        raise NotAllowed(
            f"the statement is a {statement.kind} of {statement.subject}, not a {kind} of {subject}"
        )
    if abs(at - statement.at) > SKEW:
        raise NotAllowed(
            f"the statement is dated {statement.at.isoformat()}, more than "
            f"{int(SKEW.total_seconds() // 60)} minutes from now: sign it again"
        )
    used = session.get(UsedStatement, statement.nonce)
    if used is not None and used.use != use:
        raise NotAllowed(f"this signed {kind} was already used: sign a new one")
    if used is None:
        session.add(
            UsedStatement(
                nonce=statement.nonce,
                person=key.person,
                kind=kind,
                use=use,
                statement=signed.statement,
                used_at=at,
            )
        )
        session.flush()
    return statement


def change_role(
    session: Session, signed: Signed | None, change: str, user: str, role: str, at: datetime
) -> bool:
    """`roles.grant` or `roles.revoke`, on an admin's signed statement (role_grant of
    "user:role"); returns whether anything changed."""
    statement = accept(
        session,
        signed,
        kind=f"role_{change}",
        subject=f"{identity(user)}:{role}",
        use=f"role_{change}",
        at=at,
    )
    do = grant if change == "grant" else revoke
    return do(session, user, role, by=statement.by, at=at)
