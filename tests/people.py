"""The people of the tests, enrolled with their own keys, and their signed decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle

from governance.enrollment import bootstrap_admin, enroll
from governance.roles import grant
from governance.signing import key_id, new_private_key, public_text, sign
from models.contracts import Decision

ADMIN = "管理员"
KEYS = {name: new_private_key() for name in (ADMIN, "李娜", "赵强", "陈静", "王芳", "路人甲")}
ROLES = {"李娜": "approver", "赵强": "approver", "陈静": "compliance_officer"}


def enroll_people(session: Session, *people: str) -> None:
    """The admin bootstraps, then enrolls everyone (roles as in ROLES; others none)."""
    now = datetime.now(UTC)
    bootstrap_admin(session, ADMIN, public_text(KEYS[ADMIN]), now)
    for person in people or tuple(KEYS):
        if person == ADMIN:
            continue
        public = public_text(KEYS[person])
        signed = sign(
            KEYS[ADMIN], kind="enroll", subject=f"{person}:{key_id(public)}", by=ADMIN, at=now
        )
        enroll(session, signed, person, public, now)
        if person in ROLES:
            grant(session, person, ROLES[person], by=ADMIN, at=now)


def signed_decision(
    campaign_id: str,
    update: str,
    by: str,
    comment: str = "",
    plan_digest: str | None = None,
    signer: str | None = None,
) -> Decision:
    """`by`'s decision, signed with `signer`'s key (theirs unless a test forges it)."""
    signed = sign(
        KEYS[(signer or by).strip()],
        kind=update,
        subject=campaign_id,
        by=signer or by,
        at=datetime.now(UTC),
        plan_digest=plan_digest,
        comment=comment,
    )
    return Decision(by=by, comment=comment, plan_digest=plan_digest, signed=signed)


async def decide(
    handle: WorkflowHandle[Any, Any],
    update: str,
    *,
    by: str,
    comment: str = "",
    plan_digest: str | None = None,
) -> str:
    """Run the update `update` (approve, reject, compliance_ok, compliance_reject) as `by`."""
    campaign_id = handle.id.removeprefix("campaign-")
    return await handle.execute_update(
        update, signed_decision(campaign_id, update, by, comment, plan_digest), result_type=str
    )
