"""One send pass for a campaign: claim → screen → reserve budget → send → record, in batches."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, update
from sqlalchemy.orm import Session

from channels.base import Channel, OutboundMessage, Outcome, SendResult
from db.campaigns import get_campaign, load_spec
from db.engine import session_scope
from models.contracts import SendBatchResult
from models.spec import CampaignSpec
from models.tables import PlannedSend
from observability.metrics import SENDS
from optout.apply import opt_out_from_provider
from policy.budget import refund, reserve, spent_for_good
from policy.frequency_cap import CapRules, Wanted, release_contacts, reserve_contacts
from policy.subscription_quota import release
from sending.checks import Screened, screen
from sending.claim import Claimed, claim_due, next_due
from sending.deliver import build_message, deliver
from sending.halt import HaltWatch
from sending.holds import FAILED_BATCHES_TO_HOLD, held_channels, hold_channel
from sending.quota import quota_ended, settle_quota, take_quota, wechat_pairs
from sending.rate_limit import RateLimiter
from sending.recipients import Recipient
from sending.record import UNCLAIMED, Recorded, record_results, set_status

TRANSIENT = {Outcome.RETRYABLE, Outcome.RATE_LIMITED}


@dataclass(frozen=True)
class SendPass:
    """One activity's share of a campaign's due sends."""

    campaign_id: str
    due_before: datetime
    claimer: str
    max_items: int = 5000
    batch_size: int = 1000
    # Claims stop after this long, so the workflow sees a pause or cancel between activities
    # within seconds even when a provider's rate limit makes batches slow.
    max_seconds: float = 5.0


class SendEngine:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        caps: CapRules,
        limits: Mapping[str, RateLimiter] | None = None,
    ) -> None:
        self._engine = engine
        self._channels = channels
        self._caps = caps
        self._limits = limits or {}

    async def run(
        self, job: SendPass, progress: Callable[[SendBatchResult], None]
    ) -> SendBatchResult:
        spec, name, priority = await asyncio.to_thread(self._campaign, job.campaign_id)
        held = await asyncio.to_thread(self._held, job)
        watch = HaltWatch(self._engine, job.campaign_id)
        size = self._claim_size(job, spec)
        streaks: dict[str, int] = defaultdict(int)
        total = SendBatchResult()
        handled = 0
        deadline = time.monotonic() + job.max_seconds
        while not (total.budget_exhausted or total.budget_waiting):
            if await watch.stopped():
                break
            if handled >= job.max_items or time.monotonic() >= deadline:
                total.saturated = True
                break
            batch = await asyncio.to_thread(self._claim_and_screen, job, spec, priority, held, size)
            if batch is None:
                break
            handled += batch.claimed
            results = await self._batch(job, spec, name, batch, total, watch)
            for channel in self._failing(results, streaks):
                await asyncio.to_thread(self._hold, job, channel)
                held.add(channel)
            progress(total)
        total.halted = watch.halt is not None
        total.next_due_at, total.remaining = await asyncio.to_thread(self._open, job.campaign_id)
        return total

    def _claim_size(self, job: SendPass, spec: CampaignSpec) -> int:
        """At most what the slowest rate-limited channel can send within the pass's time bound,
        so a claim is never held for minutes (its lease) and a pass ends when it should."""
        rates = [self._limits[c.channel].rate for c in spec.channels if c.channel in self._limits]
        if not rates:
            return job.batch_size
        return max(1, min(job.batch_size, int(min(rates) * job.max_seconds)))

    @staticmethod
    def _failing(
        results: Sequence[tuple[Claimed, SendResult]], streaks: dict[str, int]
    ) -> list[str]:
        """Channels whose last few batches all failed with a retryable error."""
        outcomes: dict[str, set[Outcome]] = defaultdict(set)
        for claim, result in results:
            outcomes[claim.channel].add(result.outcome)
        failing = []
        for channel, seen in outcomes.items():
            streaks[channel] = streaks[channel] + 1 if seen <= TRANSIENT else 0
            if streaks[channel] >= FAILED_BATCHES_TO_HOLD:
                failing.append(channel)
        return failing

    def _held(self, job: SendPass) -> set[str]:
        with session_scope(self._engine) as session:
            return held_channels(session, job.campaign_id, job.due_before)

    def _hold(self, job: SendPass, channel: str) -> None:
        with session_scope(self._engine) as session:
            hold_channel(
                session,
                job.campaign_id,
                channel,
                job.due_before,
                "provider kept failing with retryable errors",
            )

    def _campaign(self, campaign_id: str) -> tuple[CampaignSpec, str, int]:
        with session_scope(self._engine) as session:
            campaign = get_campaign(session, campaign_id)
            return load_spec(session, campaign_id), campaign.name, campaign.priority

    def _open(self, campaign_id: str) -> tuple[datetime | None, int]:
        with session_scope(self._engine) as session:
            return next_due(session, campaign_id)

    async def _batch(
        self,
        job: SendPass,
        spec: CampaignSpec,
        name: str,
        batch: Batch,
        total: SendBatchResult,
        watch: HaltWatch,
    ) -> list[tuple[Claimed, SendResult]]:
        screened = batch.screened
        total.count_suppressed(r for _, r in screened.suppressed)
        total.failed += len(screened.failed)
        total.deferred += len(screened.deferred)
        total.budget_exhausted = batch.budget_stopped > 0
        total.budget_waiting = batch.unfunded > 0 and not batch.budget_stopped
        total.count_suppressed(["budget_exhausted"] * batch.budget_stopped)
        results = await self._send(job, spec, name, screened.ready, watch)
        recorded = await asyncio.to_thread(self._record, job, results)
        total.sent += recorded.counts["sent"]
        total.failed += recorded.counts["failed"]
        total.count_suppressed(["provider_opt_out"] * recorded.counts["suppressed"])
        total.spent += recorded.cost
        return results

    def _claim_and_screen(
        self, job: SendPass, spec: CampaignSpec, priority: int, held: set[str], size: int
    ) -> Batch | None:
        """Claim, re-check, take contact slots (caps), quota and budget, in one transaction:
        a send is `sending` exactly while its budget is reserved, whatever crashes when."""
        with session_scope(self._engine) as session:
            claimed = claim_due(
                session,
                job.campaign_id,
                job.due_before,
                size,
                job.claimer,
                datetime.now(UTC),
                exclude=held,
            )
            if not claimed:
                return None
            screened = screen(session, claimed, spec, job.due_before)
            self._apply_caps(session, job, spec, priority, screened)
            take_quota(session, screened, job.due_before)
            fresh = [(c, r) for c, r in screened.ready if not c.reserved]
            fitted = reserve(session, job.campaign_id, [c.unit_cost for c, _ in fresh])
            unfunded = fresh[fitted:]
            screened.ready = [(c, r) for c, r in screened.ready if c.reserved] + fresh[:fitted]
            going = {c.id for c, _ in screened.ready}
            _give_back(session, job, [c for c in claimed if c.id not in going])
            release_contacts(session, [c.id for c, _ in unfunded])
            release(session, wechat_pairs(c for c, _ in unfunded), job.due_before)
            set_status(session, _screen_updates(screened))
            stopped = 0
            if unfunded:
                next_cost = unfunded[0][0].unit_cost
                ids = [c.id for c in claimed]
                if spent_for_good(session, job.campaign_id, next_cost, ids):
                    stopped = _stop_for_budget(session, job.campaign_id, unfunded)
                else:  # sends in flight may yet be refunded: try these again after them
                    set_status(
                        session,
                        [
                            {"id": c.id, "status": "planned", "attempts": UNCLAIMED}
                            for c, _ in unfunded
                        ],
                    )
        _count_sends(
            Counter((c.channel, f"suppressed:{reason}") for c, reason in screened.suppressed)
        )
        return Batch(len(claimed), screened, len(unfunded), stopped)

    def _apply_caps(
        self, session: Session, job: SendPass, spec: CampaignSpec, priority: int, screened: Screened
    ) -> None:
        """Marketing sends take a contact slot; those the caps refuse become suppressed."""
        wanted = [
            Wanted(c.id, c.customer_id, c.channel, c.template, r.timezone)
            for c, r in screened.ready
            if spec.channel(c.channel).marketing
        ]
        refused = reserve_contacts(
            session, job.campaign_id, priority, wanted, job.due_before, self._caps
        )
        if refused:
            screened.suppressed += [
                (c, refused[c.id]) for c, _ in screened.ready if c.id in refused
            ]
            screened.ready = [(c, r) for c, r in screened.ready if c.id not in refused]

    async def _send(
        self,
        job: SendPass,
        spec: CampaignSpec,
        name: str,
        ready: Sequence[tuple[Claimed, Recipient]],
        watch: HaltWatch,
    ) -> list[tuple[Claimed, SendResult]]:
        by_channel: dict[str, list[tuple[Claimed, OutboundMessage | None]]] = defaultdict(list)
        for claim, recipient in ready:
            message = build_message(job.campaign_id, spec, name, claim, recipient)
            by_channel[claim.channel].append((claim, message))
        results: list[tuple[Claimed, SendResult]] = []
        outcomes: Counter[tuple[str, str]] = Counter()
        for channel_name, items in by_channel.items():
            channel = self._channels.get(channel_name)
            messages = [m for _, m in items if m is not None]
            answers: dict[str, SendResult] = {}
            if channel is not None:
                limiter = self._limits.get(channel_name)
                sent = await deliver(channel, limiter, messages, lambda: _go(watch))
                answers = {r.idempotency_key: r for r in sent}
            for claim, message in items:
                result = answers.get(claim.idempotency_key) or SendResult(
                    claim.idempotency_key,
                    Outcome.PERMANENT,
                    error_code="template_error" if message is None else "channel_not_configured",
                )
                outcomes[(channel_name, result.outcome.value)] += 1
                results.append((claim, result))
        _count_sends(outcomes)
        return results

    def _record(self, job: SendPass, results: Sequence[tuple[Claimed, SendResult]]) -> Recorded:
        with session_scope(self._engine) as session:
            recorded = record_results(session, job.campaign_id, job.due_before, results)
            refund(session, job.campaign_id, recorded.refund)
            release_contacts(session, recorded.unsent)
            settle_quota(session, results, job.due_before)
            for claim, code in recorded.opted_out:
                if quota_ended(claim, code):
                    continue
                opt_out_from_provider(
                    session,
                    customer_id=claim.customer_id,
                    channel=claim.channel,
                    provider_code=code,
                    at=job.due_before,
                )
            return recorded


def _count_sends(outcomes: Counter[tuple[str, str]]) -> None:
    """One metric update per (channel, outcome) and batch, not one per send."""
    for (channel, outcome), n in outcomes.items():
        SENDS.labels(channel=channel, outcome=outcome).inc(n)


async def _go(watch: HaltWatch) -> bool:
    return not await watch.stopped()


@dataclass(frozen=True)
class Batch:
    """One claim, screened and funded: what may go, and what the budget held back."""

    claimed: int
    screened: Screened
    unfunded: int  # ready sends the budget could not take now
    budget_stopped: int  # sends closed because the budget is spent for good


def _give_back(session: Session, job: SendPass, reclaimed: Sequence[Claimed]) -> None:
    """Re-claimed sends that will not go now give back what their first claim reserved."""
    reserved = [c for c in reclaimed if c.reserved]
    if reserved:
        refund(session, job.campaign_id, sum((c.unit_cost for c in reserved), Decimal(0)))
        release_contacts(session, [c.id for c in reserved])
        release(session, wechat_pairs(reserved), job.due_before)


def _screen_updates(screened: Screened) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"id": c.id, "status": "suppressed", "reason": r} for c, r in screened.suppressed
    ]
    rows += [{"id": c.id, "status": "failed", "reason": r} for c, r in screened.failed]
    rows += [
        {"id": c.id, "status": "planned", "reason": "quiet_hours", "scheduled_at": t}
        for c, t in screened.deferred
    ]
    return rows


def _stop_for_budget(
    session: Session, campaign_id: str, unfunded: Sequence[tuple[Claimed, Recipient]]
) -> int:
    """The next send would pass the budget for good: close it and every send still planned (or
    held for a journey's A/B winner); returns how many were closed."""
    set_status(
        session,
        [{"id": c.id, "status": "suppressed", "reason": "budget_exhausted"} for c, _ in unfunded],
    )
    rest = cast(
        CursorResult[Any],
        session.execute(
            update(PlannedSend)
            .where(
                PlannedSend.campaign_id == campaign_id,
                PlannedSend.status.in_(("planned", "held")),
            )
            .values(status="suppressed", reason="budget_exhausted")
        ),
    )
    return len(unfunded) + (rest.rowcount or 0)
