"""Inputs and outputs of the workflow, its messages and its activities: ids and counts only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from models.signed import Signed
from models.spec import CampaignSpec


class Phase(StrEnum):
    RESEARCH = "research"
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLIANCE_CHECK = "compliance_check"
    SENDING = "sending"
    AWAITING_REVIEW = "awaiting_review"
    REVIEWING = "reviewing"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    COMPLIANCE_FAILED = "compliance_failed"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL = {
    Phase.COMPLETED,
    Phase.REJECTED,
    Phase.EXPIRED,
    Phase.COMPLIANCE_FAILED,
    Phase.CANCELLED,
    Phase.FAILED,
}


class SendCounts(BaseModel):
    """What happened to a campaign's planned sends, as the database records it."""

    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    suppressed_by: dict[str, int] = Field(default_factory=dict)  # reason → sends
    cancelled: int = 0
    spent: Decimal = Decimal(0)  # cost of the sends made


class Counters(SendCounts):
    audience: int = 0
    holdout: int = 0
    planned: int = 0
    deferred: int = 0

    def add(self, batch: SendBatchResult) -> None:
        self.sent += batch.sent
        self.failed += batch.failed
        self.suppressed += batch.suppressed
        for reason, n in batch.suppressed_by.items():
            self.suppressed_by[reason] = self.suppressed_by.get(reason, 0) + n
        self.spent += batch.spent

    def settle(self, counts: SendCounts) -> None:
        """Take the database's counts as they are (after a retry or at a phase's end)."""
        for name in SendCounts.model_fields:
            setattr(self, name, getattr(counts, name))


class SendingState(BaseModel):
    """What a continued-as-new run needs to pick up the send loop where it stopped."""

    counters: Counters
    approved_by: list[str]
    paused: bool = False
    cancelled: bool = False
    cancelled_by: str = ""
    budget_exhausted: bool = False
    journey: dict[str, int] = Field(default_factory=dict)
    journey_ended: dict[str, int] = Field(default_factory=dict)
    entered: bool = False  # a journey's customers are at their steps (a run before entered them)


class SeriesApproval(BaseModel):
    """What a run of an approved series carries instead of waiting for a person: the version
    (fingerprint) of the series that was approved, and by whom."""

    series_id: str
    fingerprint: str
    approved_by: list[str]


class CampaignInput(BaseModel):
    campaign_id: str
    spec: CampaignSpec
    requested_by: str
    slot_seconds: int = Field(default=60, ge=1, le=3600)
    send_lanes: int = Field(default=4, ge=1, le=32)
    send_max_items: int = Field(default=5000, ge=1)
    # Events per run before sending continues as new, so history stays this size at any audience.
    history_limit: int = Field(default=500, ge=20)
    resume: SendingState | None = None
    series: SeriesApproval | None = None  # a run of a recurring campaign, approved with it


class SeriesRunInput(BaseModel):
    """What a series' Temporal Schedule passes each time: the series and the send settings of
    the campaigns it starts (the spec is read from the database, as approved)."""

    series_id: str
    requested_by: str
    slot_seconds: int = Field(default=60, ge=1, le=3600)
    send_lanes: int = Field(default=4, ge=1, le=32)
    send_max_items: int = Field(default=5000, ge=1)


class SeriesRunStart(BaseModel):
    series_id: str
    scheduled_at: datetime


class SeriesRunPlan(BaseModel):
    """A scheduled time's run: the campaign to start with its spec and budget, or (no
    campaign id) why none starts."""

    detail: str
    campaign_id: str | None = None
    spec: CampaignSpec | None = None
    approval: SeriesApproval | None = None


class Decision(BaseModel):
    """An approver's (or compliance officer's) decision, with who and why, and the fingerprint
    of the plan they were shown (approvals bind to it); `signed` proves who made it."""

    by: str = Field(min_length=1, max_length=100)
    comment: str = Field(default="", max_length=2000)
    plan_digest: str | None = None
    signed: Signed | None = None


class ApprovalCheck(BaseModel):
    campaign_id: str
    kind: str  # "approve" or "compliance"
    by: str
    requested_by: str
    plan_digest: str | None = None
    decision: str = ""  # the update: approve, reject, compliance_ok, compliance_reject
    comment: str = ""
    signed: Signed | None = None
    use: str = ""  # the workflow and update the signed statement is spent on


class ApprovalVerdict(BaseModel):
    digest: str
    approvals_needed: int
    refused: str | None = None  # why the decision does not count (one line, no traceback)


class CampaignStatus(BaseModel):
    campaign_id: str
    phase: Phase
    detail: str = ""
    paused: bool = False
    counters: Counters
    # a journey's customers per step still in it, and per end state (done, exited, …)
    journey: dict[str, int] = Field(default_factory=dict)
    journey_ended: dict[str, int] = Field(default_factory=dict)


class RegisterInput(BaseModel):
    campaign_id: str
    spec: CampaignSpec
    requested_by: str
    at: datetime


class PhaseChange(BaseModel):
    campaign_id: str
    phase: Phase
    detail: str = ""
    at: datetime
    by: str = "system"  # who caused it, for the audit log (the operator who cancelled)


class ControlRecord(BaseModel):
    """An operator's pause, resume or cancel, as the workflow received it."""

    campaign_id: str
    action: str  # pause, resume, cancel
    by: str
    at: datetime


class DecisionRecord(BaseModel):
    campaign_id: str
    decision: str
    by: str
    comment: str
    at: datetime
    signed: Signed | None = None  # kept in the audit log, so anyone can verify it again


class ResearchResult(BaseModel):
    audience: int
    holdout: int
    targeted: int
    reachable_by_channel: dict[str, int]
    excluded: dict[str, int]


class RefreshResult(BaseModel):
    """A refresh of every customer's profile: as of when, over how many, how many moved."""

    as_of: datetime
    profiles: int
    changed: int


class RetentionResult(BaseModel):
    """One retention purge: as of when, and how much of each kind of data it removed."""

    as_of: datetime
    purged: dict[str, int]


class ReceiptPullResult(BaseModel):
    """One scheduled pull of SMS receipts: counts only, or why nothing was pulled."""

    provider: str | None = None
    skipped: str | None = None  # why nothing was pulled (no pullable SMS provider configured)
    asked: int = 0
    received: int = 0
    stored: int = 0
    waiting: int = 0
    unmatched: int = 0
    errors: dict[str, int] = {}


class PlanResult(BaseModel):
    planned: int
    by_channel: dict[str, int]
    cost: Decimal
    expected_revenue: Decimal
    fits_budget: bool
    dropped: int
    first_send_at: datetime | None
    last_send_at: datetime | None


class ComplianceFindingOut(BaseModel):
    rule_id: str
    severity: str
    message: str


class ComplianceResult(BaseModel):
    blocking: list[ComplianceFindingOut]
    review: list[ComplianceFindingOut]
    warnings: int


class CampaignRef(BaseModel):
    campaign_id: str
    at: datetime


class SendBatchInput(BaseModel):
    campaign_id: str
    due_before: datetime
    max_items: int = 5000


class HaltInput(BaseModel):
    campaign_id: str
    halt: str | None  # "pause", "cancel", or None to let sends go


class SendBatchResult(BaseModel):
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    suppressed_by: dict[str, int] = Field(default_factory=dict)
    deferred: int = 0
    spent: Decimal = Decimal(0)
    budget_exhausted: bool = False
    budget_waiting: bool = False  # the budget is held by sends in flight: try again later
    halted: bool = False  # stopped by a pause or cancel
    retried: bool = False  # a retry: an earlier attempt's work is not in these counts
    next_due_at: datetime | None = None
    remaining: int = 0
    saturated: bool = False  # stopped at its item or time bound: call again at once

    def count_suppressed(self, reasons: Iterable[str]) -> None:
        for reason in reasons:
            self.suppressed += 1
            self.suppressed_by[reason] = self.suppressed_by.get(reason, 0) + 1

    @classmethod
    def merge(cls, parts: Sequence[SendBatchResult]) -> SendBatchResult:
        """Combine side-by-side passes; `remaining` is the latest view (the smallest)."""
        dues = [p.next_due_at for p in parts if p.next_due_at is not None]
        merged = cls(
            sent=sum(p.sent for p in parts),
            failed=sum(p.failed for p in parts),
            deferred=sum(p.deferred for p in parts),
            spent=sum((p.spent for p in parts), Decimal(0)),
            budget_exhausted=any(p.budget_exhausted for p in parts),
            budget_waiting=any(p.budget_waiting for p in parts),
            halted=any(p.halted for p in parts),
            retried=any(p.retried for p in parts),
            next_due_at=min(dues) if dues else None,
            remaining=min(p.remaining for p in parts),
            saturated=any(p.saturated for p in parts),
        )
        for p in parts:
            for reason, n in p.suppressed_by.items():
                merged.suppressed += n
                merged.suppressed_by[reason] = merged.suppressed_by.get(reason, 0) + n
        return merged


class JourneyProgress(BaseModel):
    """Where a journey's customers are: per step (still in it) and per end state."""

    by_step: dict[str, int] = Field(default_factory=dict)
    ended: dict[str, int] = Field(default_factory=dict)  # done, exited, cancelled, failed
    active: int = 0
    moved: int = 0  # step changes made by this advance
    exited_now: int = 0  # customers this advance took out on the goal
    next_due_at: datetime | None = None  # the next wait or A/B decision that falls due
    more: bool = False  # stopped at its time bound: call again at once


class ReviewResult(BaseModel):
    sent: int
    conversions: int
    revenue: Decimal
    cost: Decimal
    roi: float | None
    lift: float | None
