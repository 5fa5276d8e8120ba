"""Roles: bootstrap of the first admin, grant/revoke by admins only, audit, approval checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from audit.log import verify
from db.engine import session_scope
from governance import roles
from governance.approvals import check_approver, check_compliance_officer
from governance.roles import NotAllowed
from models.tables import AuditEntry
from tests.governance.dbkit import NOW, fresh_database


@pytest.fixture
def empty() -> Iterator[Engine]:
    """A database nobody holds a role in yet."""
    with fresh_database() as (made, _):
        yield made


def role_audit(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.action.like("role_%"))
            .order_by(AuditEntry.id)
        ).all()
    return [tuple(r) for r in rows]


def test_bootstrap_then_admin_only(empty: Engine) -> None:
    with session_scope(empty) as s:
        with pytest.raises(NotAllowed, match="first grant must be the admin role"):
            roles.grant(s, "wang.fang", "approver", by="wang.fang", at=NOW)
        assert roles.grant(s, " Admin.Li ", "admin", by="admin.li", at=NOW)
        with pytest.raises(NotAllowed, match="mallory is not an admin"):
            roles.grant(s, "mallory", "admin", by="mallory", at=NOW)
        assert roles.grant(s, "wang.fang", "approver", by="ADMIN.LI", at=NOW)
        assert not roles.grant(s, "Wang.Fang", "approver", by="admin.li", at=NOW)
        assert roles.has_role(s, "WANG.FANG", "approver")
        assert not roles.has_role(s, "wang.fang", "admin")
        with pytest.raises(NotAllowed, match="wang.fang is not an admin"):
            roles.revoke(s, "admin.li", "admin", by="wang.fang", at=NOW)
        with pytest.raises(NotAllowed, match="last admin"):
            roles.revoke(s, "admin.li", "admin", by="admin.li", at=NOW)
        assert roles.revoke(s, "wang.fang", "approver", by="admin.li", at=NOW)
        assert not roles.revoke(s, "wang.fang", "approver", by="admin.li", at=NOW)
        assert [(g.user, g.role, g.granted_by) for g in roles.list_roles(s)] == [
            ("admin.li", "admin", "admin.li")
        ]
        assert verify(s).ok
    assert role_audit(empty) == [
        ("admin.li", "role_granted", {"user": "admin.li", "role": "admin", "bootstrap": True}),
        ("admin.li", "role_granted", {"user": "wang.fang", "role": "approver", "bootstrap": False}),
        ("admin.li", "role_revoked", {"user": "wang.fang", "role": "approver"}),
    ]


def test_bad_names_and_roles_are_named(empty: Engine) -> None:
    with session_scope(empty) as s:
        with pytest.raises(ValueError, match="role: unknown role 'boss'"):
            roles.grant(s, "a", "boss", by="a", at=NOW)
        with pytest.raises(ValueError, match="person: '  ' is not a valid name"):
            roles.grant(s, "  ", "admin", by="a", at=NOW)


def test_approver_checks(empty: Engine) -> None:
    with session_scope(empty) as s:
        roles.grant(s, "admin.li", "admin", by="admin.li", at=NOW)
        roles.grant(s, "wang.fang", "approver", by="admin.li", at=NOW)
        roles.grant(s, "zhao.lei", "compliance_officer", by="admin.li", at=NOW)
        check_approver(s, campaign_id="c1", approver="Wang.Fang", requested_by="li.na")
        with pytest.raises(NotAllowed, match="requested campaign c1 and cannot approve"):
            check_approver(s, campaign_id="c1", approver="wang.fang", requested_by=" WANG.FANG")
        with pytest.raises(NotAllowed, match="does not hold the approver role"):
            check_approver(s, campaign_id="c1", approver="admin.li", requested_by="li.na")
        with pytest.raises(NotAllowed, match="does not hold the approver role"):
            check_approver(s, campaign_id="c1", approver="zhao.lei", requested_by="li.na")
        check_compliance_officer(s, campaign_id="c1", officer="zhao.lei", requested_by="li.na")
        with pytest.raises(NotAllowed, match="compliance_officer"):
            check_compliance_officer(s, campaign_id="c1", officer="wang.fang", requested_by="li.na")
