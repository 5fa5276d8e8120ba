"""CampaignWorkflow: one long-running workflow per campaign, phase by phase (SPEC §2)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import bookkeeping, compliance, planning, research, review, sending
    from models.contracts import (
        TERMINAL,
        CampaignInput,
        CampaignRef,
        CampaignStatus,
        ComplianceFindingOut,
        Counters,
        Decision,
        DecisionRecord,
        Phase,
        PhaseChange,
        RegisterInput,
        SendBatchInput,
        SendBatchResult,
        SendingState,
    )
    from models.search_attributes import CAMPAIGN_PHASE

SHORT = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=10),
)
LONG = dict(
    start_to_close_timeout=timedelta(minutes=30),
    heartbeat_timeout=timedelta(minutes=2),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=10),
)
SEND = dict(
    start_to_close_timeout=timedelta(minutes=15),
    heartbeat_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2,
        maximum_interval=timedelta(minutes=1),
    ),
)


def workflow_id(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


@workflow.defn
class CampaignWorkflow:
    """Research → planning → approval → compliance → timed sends → review."""

    def __init__(self) -> None:
        self._campaign_id = ""
        self._requested_by = ""
        self._approvers: list[str] = []
        self._phase = Phase.RESEARCH
        self._detail = ""
        self._counters = Counters()
        self._paused = False
        self._cancelled = False
        self._decision: tuple[str, Decision] | None = None
        self._approved_by: list[str] = []
        self._compliance: tuple[str, Decision] | None = None
        self._awaiting_review_findings = False

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignStatus:
        self._campaign_id = inp.campaign_id
        self._requested_by = inp.requested_by
        self._approvers = list(inp.spec.approval.approvers)
        try:
            if inp.resume is None:
                await self._prepare(inp)
            else:
                self._restore(inp.resume)
            if self._phase == Phase.SENDING:
                await self._send_all(inp)
            if self._phase == Phase.AWAITING_REVIEW:
                await self._review(inp)
        except ActivityError as err:
            await self._enter(Phase.FAILED, f"{type(err.cause).__name__}: {err.cause}")
        return self.status()

    async def _prepare(self, inp: CampaignInput) -> None:
        ref = CampaignRef(campaign_id=inp.campaign_id, at=workflow.now())
        await workflow.execute_activity(
            bookkeeping.register_campaign,
            RegisterInput(
                campaign_id=inp.campaign_id,
                spec=inp.spec,
                requested_by=inp.requested_by,
                at=workflow.now(),
            ),
            **SHORT,
        )
        await self._enter(Phase.RESEARCH)
        found = await workflow.execute_activity(research.research_audience, ref, **LONG)
        self._counters.audience, self._counters.holdout = found.audience, found.holdout
        if await self._stopped():
            return
        await self._enter(Phase.PLANNING)
        plan = await workflow.execute_activity(planning.plan_campaign, ref, **LONG)
        self._counters.planned = plan.planned
        if await self._stopped():
            return
        await self._enter(
            Phase.AWAITING_APPROVAL, f"{plan.planned} sends planned, estimated cost {plan.cost}"
        )
        if not await self._await_approval(inp):
            return
        await self._enter(Phase.COMPLIANCE_CHECK)
        checked = await workflow.execute_activity(
            compliance.check_compliance,
            CampaignRef(campaign_id=inp.campaign_id, at=workflow.now()),
            **SHORT,
        )
        if checked.blocking:
            reasons = "; ".join(f"{f.rule_id}: {f.message}" for f in checked.blocking)
            await self._enter(Phase.COMPLIANCE_FAILED, reasons)
            return
        if checked.review and not await self._await_compliance_review(inp, checked.review):
            return
        if await self._stopped():
            return
        await self._enter(Phase.SENDING)

    async def _await_compliance_review(
        self, inp: CampaignInput, review: list[ComplianceFindingOut]
    ) -> bool:
        """A `review` finding holds the campaign until a compliance officer decides."""
        self._awaiting_review_findings = True
        self._detail = "awaiting compliance review: " + "; ".join(
            f"{f.rule_id}: {f.message}" for f in review
        )
        try:
            await workflow.wait_condition(
                lambda: self._compliance is not None or self._cancelled,
                timeout=inp.spec.approval.deadline,
            )
        except TimeoutError:
            await self._enter(Phase.EXPIRED, "no compliance decision before the deadline")
            return False
        self._awaiting_review_findings = False
        if self._cancelled or self._compliance is None:
            await self._cancel("cancelled during compliance review")
            return False
        kind, decision = self._compliance
        await workflow.execute_activity(
            bookkeeping.record_decision,
            DecisionRecord(
                campaign_id=self._campaign_id,
                decision=kind,
                by=decision.by,
                comment=decision.comment,
                at=workflow.now(),
            ),
            **SHORT,
        )
        if kind == "compliance_rejected":
            await self._enter(
                Phase.COMPLIANCE_FAILED,
                f"rejected by compliance officer {decision.by}: {decision.comment}",
            )
            return False
        return True

    async def _await_approval(self, inp: CampaignInput) -> bool:
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None or self._cancelled,
                timeout=inp.spec.approval.deadline,
            )
        except TimeoutError:
            await self._enter(Phase.EXPIRED, f"no decision within {inp.spec.approval.deadline}")
            return False
        if self._cancelled or self._decision is None:
            await self._cancel("cancelled while awaiting approval")
            return False
        kind, decision = self._decision
        await workflow.execute_activity(
            bookkeeping.record_decision,
            DecisionRecord(
                campaign_id=self._campaign_id,
                decision=kind,
                by=decision.by,
                comment=decision.comment,
                at=workflow.now(),
            ),
            **SHORT,
        )
        if kind == "rejected":
            await self._enter(Phase.REJECTED, f"rejected by {decision.by}: {decision.comment}")
            return False
        self._approved_by.append(decision.by)
        return True

    async def _send_all(self, inp: CampaignInput) -> None:
        """Sleep until sends fall due, send them in batches; widen to parallel lanes under load."""
        slot = timedelta(seconds=inp.slot_seconds)
        lanes = 1
        while not self._cancelled:
            await workflow.wait_condition(lambda: not self._paused or self._cancelled)
            if self._cancelled:
                break
            now = workflow.now()
            batch = await self._send_lanes(now, lanes, inp.send_max_items)
            self._counters.add(batch)
            if batch.budget_exhausted:
                self._detail = "budget_exhausted"
                break
            if batch.remaining == 0:
                break
            lanes = inp.send_lanes if batch.saturated else 1
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(update={"resume": self._state()}))
            if batch.saturated:
                continue
            wake = max(batch.next_due_at or now + slot, now + slot)
            try:
                await workflow.wait_condition(
                    lambda: self._cancelled or self._paused, timeout=wake - workflow.now()
                )
            except TimeoutError:
                pass
        if self._cancelled:
            await self._cancel("cancelled during sending")
            return
        await self._enter(Phase.AWAITING_REVIEW, self._detail)

    async def _send_lanes(self, now: datetime, lanes: int, max_items: int) -> SendBatchResult:
        """Run `lanes` send activities side by side (they claim disjoint sends) and merge them."""
        job = SendBatchInput(campaign_id=self._campaign_id, due_before=now, max_items=max_items)
        results = await asyncio.gather(
            *(workflow.execute_activity(sending.send_due, job, **SEND) for _ in range(lanes))
        )
        return SendBatchResult.merge(results)

    async def _review(self, inp: CampaignInput) -> None:
        try:
            await workflow.wait_condition(lambda: self._cancelled, timeout=inp.spec.review.delay)
        except TimeoutError:
            pass
        if self._cancelled:
            await self._cancel("cancelled before review")
            return
        await self._enter(Phase.REVIEWING)
        result = await workflow.execute_activity(
            review.review_campaign,
            CampaignRef(campaign_id=self._campaign_id, at=workflow.now()),
            **LONG,
        )
        roi = "n/a" if result.roi is None else f"{result.roi:.2f}"
        await self._enter(Phase.COMPLETED, f"{result.conversions} conversions, ROI {roi}")

    async def _stopped(self) -> bool:
        """Honour pause between phases and stop on cancel."""
        await workflow.wait_condition(lambda: not self._paused or self._cancelled)
        if self._cancelled:
            await self._cancel(f"cancelled during {self._phase.value}")
        return self._cancelled

    async def _cancel(self, detail: str) -> None:
        """Close every send not yet made, then end as cancelled: nothing is left half-done."""
        await workflow.execute_activity(
            sending.cancel_pending,
            CampaignRef(campaign_id=self._campaign_id, at=workflow.now()),
            **SHORT,
        )
        await self._enter(Phase.CANCELLED, detail)

    async def _enter(self, phase: Phase, detail: str = "") -> None:
        self._phase, self._detail = phase, detail
        workflow.upsert_search_attributes([CAMPAIGN_PHASE.value_set(phase.value)])
        await workflow.execute_activity(
            bookkeeping.record_phase,
            PhaseChange(
                campaign_id=self._campaign_id, phase=phase, detail=detail, at=workflow.now()
            ),
            **SHORT,
        )

    def _state(self) -> SendingState:
        return SendingState(
            counters=self._counters, approved_by=self._approved_by, paused=self._paused
        )

    def _restore(self, state: SendingState) -> None:
        self._phase = Phase.SENDING
        self._counters = state.counters
        self._approved_by = list(state.approved_by)
        self._paused = state.paused

    @workflow.query
    def status(self) -> CampaignStatus:
        return CampaignStatus(
            campaign_id=self._campaign_id,
            phase=self._phase,
            detail=self._detail,
            paused=self._paused,
            counters=self._counters,
        )

    @workflow.update
    async def approve(self, decision: Decision) -> str:
        self._decision = ("approved", decision)
        return f"approved by {decision.by}"

    @approve.validator
    def _check_approve(self, decision: Decision) -> None:
        self._check_decider(decision)
        if decision.by in self._approvers or not self._approvers:
            return
        raise ApplicationError(
            f"{decision.by} is not an approver of this campaign "
            f"(approvers: {', '.join(self._approvers)})"
        )

    @workflow.update
    async def reject(self, decision: Decision) -> str:
        self._decision = ("rejected", decision)
        return f"rejected by {decision.by}"

    @reject.validator
    def _check_reject(self, decision: Decision) -> None:
        self._check_decider(decision)
        if not decision.comment.strip():
            raise ApplicationError("a rejection needs a reason")

    def _check_decider(self, decision: Decision) -> None:
        if self._phase != Phase.AWAITING_APPROVAL or self._decision is not None:
            raise ApplicationError(
                f"campaign {self._campaign_id} is in phase "
                f"{self._phase.value}, not awaiting approval"
            )
        if decision.by.strip().casefold() == self._requested_by.strip().casefold():
            raise ApplicationError("the requester cannot approve or reject their own campaign")

    @workflow.update
    async def compliance_ok(self, decision: Decision) -> str:
        self._compliance = ("compliance_approved", decision)
        return f"compliance approved by {decision.by}"

    @compliance_ok.validator
    def _check_compliance_ok(self, decision: Decision) -> None:
        self._check_compliance_decider(decision)

    @workflow.update
    async def compliance_reject(self, decision: Decision) -> str:
        self._compliance = ("compliance_rejected", decision)
        return f"compliance rejected by {decision.by}"

    @compliance_reject.validator
    def _check_compliance_reject(self, decision: Decision) -> None:
        self._check_compliance_decider(decision)
        if not decision.comment.strip():
            raise ApplicationError("a compliance rejection needs a reason")

    def _check_compliance_decider(self, decision: Decision) -> None:
        if not self._awaiting_review_findings or self._compliance is not None:
            raise ApplicationError(
                f"campaign {self._campaign_id} is not awaiting compliance "
                f"review (phase {self._phase.value})"
            )
        if decision.by.strip().casefold() == self._requested_by.strip().casefold():
            raise ApplicationError(
                "the requester cannot clear their own campaign's compliance review"
            )

    @workflow.signal
    def pause(self) -> None:
        if self._phase not in TERMINAL:
            self._paused = True

    @workflow.signal
    def resume(self) -> None:
        self._paused = False

    @workflow.signal
    def cancel(self) -> None:
        if self._phase not in TERMINAL:
            self._cancelled = True
