"""Activities that record the campaign itself: registration, phase changes, decisions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.context import current
from audit.log import append
from db.campaigns import campaign_row
from db.engine import session_scope
from models.contracts import ControlRecord, DecisionRecord, PhaseChange, RegisterInput
from models.tables import Approval, AuditEntry, Campaign
from observability.metrics import APPROVALS


@activity.defn
def register_campaign(inp: RegisterInput) -> None:
    """Store the campaign and its spec (idempotent: a retry finds the row and leaves it)."""
    with session_scope(current().engine) as session:
        if session.get(Campaign, inp.campaign_id) is not None:
            return
        spec = inp.spec
        session.add(campaign_row(inp.campaign_id, spec, inp.requested_by, inp.at))
        append(
            session,
            at=inp.at,
            actor=inp.requested_by,
            action="campaign.started",
            campaign_id=inp.campaign_id,
            detail={"name": spec.name, "budget": str(spec.budget.limit)},
        )


@activity.defn
def record_phase(change: PhaseChange) -> None:
    """Mirror the workflow's phase into the database, for `list`, metrics and the audit log."""
    with session_scope(current().engine) as session:
        campaign = session.get(Campaign, change.campaign_id)
        if campaign is None or (
            campaign.phase == change.phase and campaign.detail == change.detail
        ):
            return
        campaign.phase, campaign.detail, campaign.updated_at = (
            change.phase,
            change.detail,
            change.at,
        )
        if change.phase in ("compliance_failed", "cancelled", "expired", "failed"):
            append(
                session,
                at=change.at,
                actor=change.by,
                action=f"campaign.{change.phase}",
                campaign_id=change.campaign_id,
                detail={"detail": change.detail},
            )


@activity.defn
def record_control(rec: ControlRecord) -> None:
    """Audit an operator's pause, resume or cancel under their name (once per arrival: a retry
    of this activity finds the entry it wrote)."""
    action = f"campaign.{rec.action}"
    with session_scope(current().engine) as session:
        seen = session.execute(
            select(AuditEntry.id).where(
                AuditEntry.campaign_id == rec.campaign_id,
                AuditEntry.action == action,
                AuditEntry.actor == rec.by,
                AuditEntry.at == rec.at,
            )
        ).first()
        if seen is None:
            append(session, at=rec.at, actor=rec.by, action=action, campaign_id=rec.campaign_id)


@activity.defn
def record_decision(rec: DecisionRecord) -> None:
    """Store an approval or rejection once, audit it and count it."""
    with session_scope(current().engine) as session:
        if _already_recorded(session, rec):
            return
        session.add(
            Approval(
                campaign_id=rec.campaign_id,
                decision=rec.decision,
                approver=rec.by,
                comment=rec.comment,
                decided_at=rec.at,
            )
        )
        append(
            session,
            at=rec.at,
            actor=rec.by,
            action=f"budget.{rec.decision}",
            campaign_id=rec.campaign_id,
            detail={"comment": rec.comment}
            | ({"signed": rec.signed.model_dump()} if rec.signed else {}),
        )
    APPROVALS.labels(decision=rec.decision).inc()


def _already_recorded(session: Session, rec: DecisionRecord) -> bool:
    return (
        session.query(Approval)
        .filter_by(campaign_id=rec.campaign_id, approver=rec.by, decision=rec.decision)
        .first()
        is not None
    )
