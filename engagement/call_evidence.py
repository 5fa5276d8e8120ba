"""Call evidence (CN-11): for every call the call center reports, who called whom (the callee's
number encrypted), when, under which consent and where the recording is, kept for the
retention period (`settings.retention_call_evidence_days`, 30 days at least)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.outbound_call import CallReport
from db.upsert import insert_ignore
from engagement.events import Link
from models.compliance_tables import CallEvidence, CallWhitelistEntry
from models.tables import Customer


def record_call_evidence(session: Session, link: Link, report: CallReport, at: datetime) -> bool:
    """One evidence row per call (a redelivered result adds none); True if stored now."""
    customer = session.get(Customer, link.customer_id)
    phone_enc = customer.phone_enc if customer is not None else None
    consent_id = None
    if customer is not None and customer.phone_index:
        consent_id = session.execute(
            select(CallWhitelistEntry.consent_event_id).where(
                CallWhitelistEntry.phone_index == customer.phone_index
            )
        ).scalar_one_or_none()
    row = {
        "planned_send_id": link.planned_send_id,
        "campaign_id": link.campaign_id,
        "customer_id": link.customer_id,
        "caller": report.caller,
        "callee_enc": phone_enc,
        "consent_event_id": consent_id,
        "recording_ref": report.recording,
        "result": report.result.value,
        "called_at": report.ended_at or at,
    }
    return insert_ignore(session, CallEvidence.__table__, [row], ["planned_send_id"]) == 1
