"""CampaignWorkflow: one long-running workflow per campaign, phase by phase (docs/lifecycle.md)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import (
        bookkeeping,
        compliance,
        governance,
        journey,
        planning,
        research,
        review,
        sending,
    )
    from models.contracts import (
        TERMINAL,
        ApprovalCheck,
        ApprovalVerdict,
        CampaignInput,
        CampaignRef,
        CampaignStatus,
        ControlRecord,
        Counters,
        Decision,
        DecisionRecord,
        HaltInput,
        JourneyProgress,
        Phase,
        PhaseChange,
        RegisterInput,
        SendBatchInput,
        SendBatchResult,
        SendCounts,
        SendingState,
    )
    from models.identity import identity
    from models.search_attributes import CAMPAIGN_PHASE
    from workflows.gate import Gate

SHORT: workflow.ActivityConfig = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=10),
)
LONG: workflow.ActivityConfig = (
    dict(  # set-based SQL over the whole base: long statements, heartbeats from the side
        start_to_close_timeout=timedelta(minutes=30),
        heartbeat_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=10),
    )
)
SEND: workflow.ActivityConfig = dict(
    start_to_close_timeout=timedelta(minutes=15),
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2,
        maximum_interval=timedelta(minutes=1),
    ),
)


# Campaigns started before this patch keep their old behaviour when replayed: no halt of sends
# in flight, no settling of counters, and a failure that completes the workflow. New runs
# (including a continue-as-new of an old campaign) take the new path. See README, "Shipping a
# workflow change".
CONTROLS = "controls-hold-under-faults"
SETTLES = {Phase.AWAITING_REVIEW, Phase.CANCELLED, Phase.FAILED}
# Pause, resume and cancel carry who sent them and are audited under that name (a cancel's
# end is no longer recorded as `system`). Older histories, whose signals carry no one, keep
# their commands: no audit activity, no wait for handlers before the run ends.
AUDITED_CONTROLS = "controls-audited"
# The review waits for the attribution window to close after the last send, not only the
# review delay: an earlier review would miss conversions. Older histories keep their timer.
REVIEW_AFTER_ATTRIBUTION = "review-after-attribution-window"
# A run of a recurring campaign carries its series' approval: it does not wait for a person,
# but passes the compliance check like any campaign. Runs without a series never reach it.
SERIES_RUNS = "series-runs-approved-with-their-series"
# While a journey's sends are being made, it advances at most this often (and at once when they
# are all made): each advance reads every customer still in the journey.
ADVANCE_EVERY = timedelta(seconds=30)


def workflow_id(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


@workflow.defn
class CampaignWorkflow:
    """Research → planning → approval → compliance → timed sends → review."""

    def __init__(self) -> None:
        self._campaign_id = ""
        self._phase = Phase.RESEARCH
        self._detail = ""
        self._counters = Counters()
        self._paused = False
        self._cancelled = False
        self._cancelled_by = ""
        self._halt_applied: str | None = None
        self._controls = True
        self._audited = True
        self._approval = Gate("budget approval", "")
        self._review_gate = Gate("compliance review", "")
        self._journey: dict[str, int] = {}
        self._journey_ended: dict[str, int] = {}

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignStatus:
        self._controls = workflow.patched(CONTROLS)
        self._audited = workflow.patched(AUDITED_CONTROLS)
        self._campaign_id = inp.campaign_id
        self._approval = Gate(
            "budget approval", inp.requested_by, list(inp.spec.approval.approvers)
        )
        self._review_gate = Gate("compliance review", inp.requested_by)
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
            await self._fail(f"{type(err.cause).__name__}: {err.cause}")
        if self._audited:  # a control's audit activity finishes before the run ends
            await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _fail(self, detail: str) -> None:
        """Close every send not made, then end as a failed execution (Failed in the UI)."""
        if not self._controls:
            await self._enter(Phase.FAILED, detail)
            return
        await workflow.execute_activity(sending.fail_pending, self._ref(), **LONG)
        await self._enter(Phase.FAILED, detail)
        raise ApplicationError(f"campaign {self._campaign_id} failed: {detail}", non_retryable=True)

    def _ref(self) -> CampaignRef:
        return CampaignRef(campaign_id=self._campaign_id, at=workflow.now())

    async def _prepare(self, inp: CampaignInput) -> None:
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
        found = await workflow.execute_activity(research.research_audience, self._ref(), **LONG)
        self._counters.audience, self._counters.holdout = found.audience, found.holdout
        if await self._stopped():
            return
        await self._enter(Phase.PLANNING)
        plan = await workflow.execute_activity(planning.plan_campaign, self._ref(), **LONG)
        self._counters.planned = plan.planned
        detail = f"{plan.planned} sends planned, estimated cost {plan.cost}"
        if inp.series is not None and workflow.patched(SERIES_RUNS):
            await self._approved_with_series(inp, detail)
            return
        while not await self._stopped():
            if not await self._decide_budget(inp, detail) or not await self._check_compliance(inp):
                return
            if await self._stopped():
                return
            digest = await workflow.execute_activity(
                governance.current_plan_digest, self._ref(), **SHORT
            )
            if digest == self._approval.digest:
                await self._enter(Phase.SENDING)
                return
            detail = "the plan changed after it was approved: it needs approval again"

    async def _approved_with_series(self, inp: CampaignInput, detail: str) -> None:
        """The series' approval covers this run (its spec and budget); compliance still checks."""
        assert inp.series is not None
        self._approval.approved_by = list(inp.series.approved_by)
        if await self._stopped() or not await self._check_compliance(inp):
            return
        if not await self._stopped():
            await self._enter(
                Phase.SENDING, f"{detail}; approved with series {inp.series.series_id}"
            )

    async def _decide_budget(self, inp: CampaignInput, detail: str) -> bool:
        """Wait for the approvals the budget needs, a rejection, cancel, or the deadline."""
        self._approval.reopen()
        await self._enter(Phase.AWAITING_APPROVAL, detail)
        if not await self._wait_gate(self._approval, inp.spec.approval.deadline):
            return False
        self._approval.open = False
        rejection = self._approval.rejection
        if rejection is not None:
            await self._enter(Phase.REJECTED, f"rejected by {rejection.by}: {rejection.comment}")
            return False
        return True

    async def _check_compliance(self, inp: CampaignInput) -> bool:
        """The compliance check must pass (or a `review` be cleared) before any send."""
        await self._enter(Phase.COMPLIANCE_CHECK)
        checked = await workflow.execute_activity(compliance.check_compliance, self._ref(), **SHORT)
        if checked.blocking:
            reasons = "; ".join(f"{f.rule_id}: {f.message}" for f in checked.blocking)
            await self._enter(Phase.COMPLIANCE_FAILED, reasons)
            return False
        if not checked.review:
            return True
        self._review_gate.reopen()
        self._detail = "awaiting compliance review: " + "; ".join(
            f"{f.rule_id}: {f.message}" for f in checked.review
        )
        if not await self._wait_gate(self._review_gate, inp.spec.approval.deadline):
            return False
        self._review_gate.open = False
        rejection = self._review_gate.rejection
        if rejection is not None:
            await self._enter(
                Phase.COMPLIANCE_FAILED,
                f"rejected by compliance officer {rejection.by}: {rejection.comment}",
            )
            return False
        return True

    async def _wait_gate(self, gate: Gate, deadline: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: gate.decided or self._cancelled, timeout=deadline)
        except TimeoutError:
            await self._enter(Phase.EXPIRED, f"no {gate.name} decision within {deadline}")
            return False
        if self._cancelled:
            await self._cancel(f"cancelled while awaiting {gate.name}")
            return False
        return True

    async def _send_all(self, inp: CampaignInput) -> None:
        """Sleep until sends fall due, send them in batches; widen to parallel lanes under load.
        A pause or cancel reaches the passes in flight through the halt keeper."""
        keeper = asyncio.create_task(self._keep_halt()) if self._controls else None
        try:
            await self._send_rounds(inp)
        finally:
            if keeper is not None:
                keeper.cancel()

    async def _send_rounds(self, inp: CampaignInput) -> None:
        slot = timedelta(seconds=inp.slot_seconds)
        lanes = 1
        detail = ""
        steps: JourneyProgress | None = None
        advance_at, open_sends, sent_since = workflow.now(), True, 0
        if inp.spec.journey and not (inp.resume and inp.resume.entered):
            self._track(await workflow.execute_activity(journey.enter_journey, self._ref(), **LONG))
        while not self._cancelled:
            await workflow.wait_condition(lambda: not self._paused or self._cancelled)
            if self._cancelled:
                break
            if self._controls:
                await workflow.wait_condition(self._halt_in_step)
            now = workflow.now()
            advanced = inp.spec.journey and (
                steps is None or steps.more or not open_sends or now >= advance_at
            )
            if advanced:
                steps = await workflow.execute_activity(
                    journey.advance_journey, self._ref(), **LONG
                )
                self._track(steps)
                advance_at, sent_since = now + ADVANCE_EVERY, 0
            batch = await self._send_lanes(now, lanes, inp.send_max_items)
            open_sends, sent_since = batch.remaining > 0, sent_since + batch.sent
            self._counters.add(batch)
            if self._controls and batch.retried:  # an attempt that died took its counts along
                await self._settle()
            if batch.budget_exhausted:
                detail = "budget_exhausted"
                if inp.spec.journey:
                    self._track(
                        await workflow.execute_activity(journey.end_journey, self._ref(), **LONG)
                    )
                break
            if batch.remaining == 0 and (steps is None or steps.active == 0):
                break
            lanes = inp.send_lanes if batch.saturated else 1
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= inp.history_limit
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._controls:
                    await workflow.wait_condition(self._halt_in_step)
                    if self._cancelled:
                        break
                workflow.continue_as_new(inp.model_copy(update={"resume": self._state()}))
            if batch.saturated or (
                steps is not None
                and ((advanced and (steps.more or steps.moved)) or (batch.sent and not open_sends))
            ):
                continue
            journey_due = steps.next_due_at if steps is not None else None
            # customers whose sends were made move on at the next advance
            moving_on = advance_at if steps is not None and sent_since else None
            dues = [d for d in (batch.next_due_at, journey_due, moving_on) if d is not None]
            wake = max(min(dues, default=now + slot), now + slot)
            try:
                await workflow.wait_condition(
                    lambda: self._cancelled or self._paused, timeout=wake - workflow.now()
                )
            except TimeoutError:
                pass
        if self._cancelled:
            await self._cancel("cancelled during sending")
            return
        await self._enter(Phase.AWAITING_REVIEW, detail)

    def _track(self, progress: JourneyProgress) -> None:
        self._journey, self._journey_ended = progress.by_step, progress.ended

    def _halt_wanted(self) -> str | None:
        return "cancel" if self._cancelled else "pause" if self._paused else None

    def _halt_in_step(self) -> bool:
        return self._halt_applied == self._halt_wanted()

    async def _keep_halt(self) -> None:
        """Mirror pause/cancel into the database the moment they arrive: every send pass in
        flight reads it before each provider call, on whichever worker it runs."""
        while True:
            await workflow.wait_condition(lambda: not self._halt_in_step())
            wanted = self._halt_wanted()
            await workflow.execute_activity(
                sending.halt_sends, HaltInput(campaign_id=self._campaign_id, halt=wanted), **SHORT
            )
            self._halt_applied = wanted

    async def _settle(self) -> None:
        """Take the database's send counts: exact after any crash or retry."""
        counts: SendCounts = await workflow.execute_activity(
            sending.count_sends, self._ref(), **LONG
        )
        self._counters.settle(counts)

    async def _send_lanes(self, now: datetime, lanes: int, max_items: int) -> SendBatchResult:
        """Run `lanes` send activities side by side (they claim disjoint sends) and merge them."""
        job = SendBatchInput(campaign_id=self._campaign_id, due_before=now, max_items=max_items)
        results = await asyncio.gather(
            *(workflow.execute_activity(sending.send_due, job, **SEND) for _ in range(lanes))
        )
        return SendBatchResult.merge(results)

    async def _review(self, inp: CampaignInput) -> None:
        wait = inp.spec.review.delay
        if workflow.patched(REVIEW_AFTER_ATTRIBUTION):
            wait = max(wait, inp.spec.review.attribution_window)
        try:
            await workflow.wait_condition(lambda: self._cancelled, timeout=wait)
        except TimeoutError:
            pass
        if self._cancelled:
            await self._cancel("cancelled before review")
            return
        await self._enter(Phase.REVIEWING)
        result = await workflow.execute_activity(review.review_campaign, self._ref(), **LONG)
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
        await workflow.execute_activity(sending.cancel_pending, self._ref(), **LONG)
        by = self._cancelled_by if self._audited else ""
        await self._enter(
            Phase.CANCELLED, f"{detail}, by {by}" if by else detail, by=by or "system"
        )

    async def _enter(self, phase: Phase, detail: str = "", by: str = "system") -> None:
        if self._controls and phase in SETTLES:
            await self._settle()
        self._phase, self._detail = phase, detail
        workflow.upsert_search_attributes([CAMPAIGN_PHASE.value_set(phase.value)])
        await workflow.execute_activity(
            bookkeeping.record_phase,
            PhaseChange(
                campaign_id=self._campaign_id,
                phase=phase,
                detail=detail,
                at=workflow.now(),
                by=by,
            ),
            **SHORT,
        )

    def _state(self) -> SendingState:
        return SendingState(
            counters=self._counters,
            approved_by=self._approval.approved_by,
            paused=self._paused,
            cancelled=self._cancelled,
            cancelled_by=self._cancelled_by,
            journey=self._journey,
            journey_ended=self._journey_ended,
            entered=True,
        )

    def _restore(self, state: SendingState) -> None:
        self._phase = Phase.SENDING
        self._counters = state.counters
        self._approval.approved_by = list(state.approved_by)
        self._paused = state.paused
        self._cancelled = state.cancelled
        self._cancelled_by = state.cancelled_by
        self._journey, self._journey_ended = state.journey, state.journey_ended
        self._halt_applied = self._halt_wanted()  # the run before waited until it was applied

    async def _decide(
        self, gate: Gate, kind: str, decision: Decision, verdict_kind: str, update: str
    ) -> str:
        """Verify the decider (signature, role, plan shown) in an activity, record it, apply it
        to the gate. While one decision of a person is verified, another of theirs is refused."""
        person = identity(decision.by)
        gate.deciding.add(person)
        try:
            return await self._verified(gate, kind, decision, verdict_kind, update)
        finally:
            gate.deciding.discard(person)

    async def _verified(
        self, gate: Gate, kind: str, decision: Decision, verdict_kind: str, update: str
    ) -> str:
        info = workflow.current_update_info()
        try:
            verdict: ApprovalVerdict = await workflow.execute_activity(
                governance.verify_decision,
                ApprovalCheck(
                    campaign_id=self._campaign_id,
                    kind=verdict_kind,
                    by=decision.by,
                    requested_by=gate.requested_by,
                    plan_digest=decision.plan_digest,
                    decision=update,
                    comment=decision.comment,
                    signed=decision.signed,
                    use=f"{self._campaign_id}/{info.id if info else ''}"[:200],
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except ActivityError as err:
            raise ApplicationError(getattr(err.cause, "message", None) or str(err.cause)) from None
        if verdict.refused:
            raise ApplicationError(verdict.refused)
        gate.deciding.discard(identity(decision.by))
        gate.check(decision, self._campaign_id, self._phase.value, kind.endswith("rejected"))
        gate.deciding.add(identity(decision.by))
        await workflow.execute_activity(
            bookkeeping.record_decision,
            DecisionRecord(
                campaign_id=self._campaign_id,
                decision=kind,
                by=decision.by,
                comment=decision.comment,
                at=workflow.now(),
                signed=decision.signed,
            ),
            **SHORT,
        )
        if kind.endswith("rejected"):
            gate.rejection = decision
            return f"{kind.replace('_', ' ')} by {decision.by}"
        gate.approved_by.append(identity(decision.by))
        gate.digest = gate.digest or verdict.digest
        gate.needed = verdict.approvals_needed if verdict_kind == "approve" else 1
        missing = gate.needed - len(gate.approved_by)
        if missing > 0:
            return (
                f"approval by {decision.by} recorded; the budget needs {missing} more approver(s)"
            )
        return f"{kind.replace('_', ' ')} by {', '.join(gate.approved_by)}"

    @workflow.query
    def status(self) -> CampaignStatus:
        return CampaignStatus(
            campaign_id=self._campaign_id,
            phase=self._phase,
            detail=self._detail,
            paused=self._paused,
            counters=self._counters,
            journey=self._journey,
            journey_ended=self._journey_ended,
        )

    @workflow.update
    async def approve(self, decision: Decision) -> str:
        return await self._decide(self._approval, "approved", decision, "approve", "approve")

    @approve.validator
    def _check_approve(self, decision: Decision) -> None:
        self._approval.check(decision, self._campaign_id, self._phase.value, reject=False)

    @workflow.update
    async def reject(self, decision: Decision) -> str:
        return await self._decide(self._approval, "rejected", decision, "approve", "reject")

    @reject.validator
    def _check_reject(self, decision: Decision) -> None:
        self._approval.check(decision, self._campaign_id, self._phase.value, reject=True)

    @workflow.update
    async def compliance_ok(self, decision: Decision) -> str:
        return await self._decide(
            self._review_gate, "compliance_approved", decision, "compliance", "compliance_ok"
        )

    @compliance_ok.validator
    def _check_compliance_ok(self, decision: Decision) -> None:
        self._review_gate.check(decision, self._campaign_id, self._phase.value, reject=False)

    @workflow.update
    async def compliance_reject(self, decision: Decision) -> str:
        return await self._decide(
            self._review_gate, "compliance_rejected", decision, "compliance", "compliance_reject"
        )

    @compliance_reject.validator
    def _check_compliance_reject(self, decision: Decision) -> None:
        self._review_gate.check(decision, self._campaign_id, self._phase.value, reject=True)

    # `by` defaults to "" for signals from before it existed (and from tools that send none).
    @workflow.signal
    async def pause(self, by: str = "") -> None:
        if self._phase not in TERMINAL:
            self._paused = True
            await self._audit_control("pause", by)

    @workflow.signal
    async def resume(self, by: str = "") -> None:
        self._paused = False
        if self._phase not in TERMINAL:
            await self._audit_control("resume", by)

    @workflow.signal
    async def cancel(self, by: str = "") -> None:
        if self._phase not in TERMINAL:
            self._cancelled = True
            self._cancelled_by = self._cancelled_by or by or "unidentified"
            await self._audit_control("cancel", by)

    async def _audit_control(self, action: str, by: str) -> None:
        """Record who paused, resumed or cancelled, when the signal arrived."""
        if not self._audited:
            return
        await workflow.execute_activity(
            bookkeeping.record_control,
            ControlRecord(
                campaign_id=self._campaign_id,
                action=action,
                by=by or "unidentified",
                at=workflow.now(),
            ),
            **SHORT,
        )
