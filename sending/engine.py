"""One send pass for a campaign: claim → screen → reserve budget → send → record, in batches."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from channels.base import Channel, OutboundMessage, Outcome, SendResult
from db.campaigns import get_campaign, load_spec
from db.engine import session_scope
from models.contracts import SendBatchResult
from models.spec import CampaignSpec
from models.tables import PlannedSend
from observability.metrics import SENDS
from optout.apply import opt_out_from_provider
from policy.budget import refund, reserve
from policy.frequency_cap import CapRules, Wanted, release_contacts, reserve_contacts
from policy.subscription_quota import release
from sending.checks import Screened, screen
from sending.claim import Claimed, claim_due, next_due
from sending.deliver import build_message, deliver
from sending.holds import FAILED_BATCHES_TO_HOLD, held_channels, hold_channel
from sending.quota import quota_ended, settle_quota, take_quota, wechat_pairs
from sending.rate_limit import RateLimiter
from sending.recipients import Recipient
from sending.record import Recorded, record_results, set_status

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
        streaks: dict[str, int] = defaultdict(int)
        total = SendBatchResult()
        handled = 0
        deadline = time.monotonic() + job.max_seconds
        while not total.budget_exhausted:
            if handled >= job.max_items or time.monotonic() >= deadline:
                total.saturated = True
                break
            claimed = await asyncio.to_thread(self._claim, job, held)
            if not claimed:
                break
            handled += len(claimed)
            results = await self._batch(job, spec, name, priority, claimed, total)
            for channel in self._failing(results, streaks):
                await asyncio.to_thread(self._hold, job, channel)
                held.add(channel)
            progress(total)
        total.next_due_at, total.remaining = await asyncio.to_thread(self._open, job.campaign_id)
        return total

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

    def _claim(self, job: SendPass, held: set[str]) -> list[Claimed]:
        with session_scope(self._engine) as session:
            return claim_due(
                session,
                job.campaign_id,
                job.due_before,
                job.batch_size,
                job.claimer,
                datetime.now(UTC),
                exclude=held,
            )

    def _open(self, campaign_id: str) -> tuple[datetime | None, int]:
        with session_scope(self._engine) as session:
            return next_due(session, campaign_id)

    async def _batch(
        self,
        job: SendPass,
        spec: CampaignSpec,
        name: str,
        priority: int,
        claimed: Sequence[Claimed],
        total: SendBatchResult,
    ) -> list[tuple[Claimed, SendResult]]:
        screened, fitted = await asyncio.to_thread(self._screen, job, spec, priority, claimed)
        total.suppressed += len(screened.suppressed)
        total.failed += len(screened.failed)
        total.deferred += len(screened.deferred)
        if fitted < len(screened.ready):
            total.budget_exhausted = True
        ready = screened.ready[:fitted]
        results = await self._send(job, spec, name, ready)
        recorded = await asyncio.to_thread(self._record, job, results)
        total.sent += recorded.counts["sent"]
        total.failed += recorded.counts["failed"]
        total.suppressed += recorded.counts["suppressed"]
        total.spent += sum((c.unit_cost for c, _ in ready), Decimal(0)) - recorded.refund
        return results

    def _screen(
        self, job: SendPass, spec: CampaignSpec, priority: int, claimed: Sequence[Claimed]
    ) -> tuple[Screened, int]:
        """Re-check, take contact slots (caps) and budget, all in one transaction."""
        with session_scope(self._engine) as session:
            screened = screen(session, claimed, spec, job.due_before)
            self._apply_caps(session, job, spec, priority, screened)
            take_quota(session, screened, job.due_before)
            fitted = reserve(session, job.campaign_id, [c.unit_cost for c, _ in screened.ready])
            release_contacts(session, [c.id for c, _ in screened.ready[fitted:]])
            release(session, wechat_pairs(c for c, _ in screened.ready[fitted:]), job.due_before)
            set_status(session, _screen_updates(screened))
            if fitted < len(screened.ready):
                _stop_for_budget(session, job.campaign_id, screened.ready[fitted:])
        for c, reason in screened.suppressed:
            SENDS.labels(channel=c.channel, outcome=f"suppressed:{reason.split(':')[0]}").inc()
        return screened, fitted

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
    ) -> list[tuple[Claimed, SendResult]]:
        by_channel: dict[str, list[tuple[Claimed, OutboundMessage | None]]] = defaultdict(list)
        for claim, recipient in ready:
            message = build_message(job.campaign_id, spec, name, claim, recipient)
            by_channel[claim.channel].append((claim, message))
        results: list[tuple[Claimed, SendResult]] = []
        for channel_name, items in by_channel.items():
            channel = self._channels.get(channel_name)
            messages = [m for _, m in items if m is not None]
            answers: dict[str, SendResult] = {}
            if channel is not None:
                limiter = self._limits.get(channel_name)
                answers = {r.idempotency_key: r for r in await deliver(channel, limiter, messages)}
            for claim, message in items:
                result = answers.get(claim.idempotency_key) or SendResult(
                    claim.idempotency_key,
                    Outcome.PERMANENT,
                    error_code="template_error" if message is None else "channel_not_configured",
                )
                SENDS.labels(channel=channel_name, outcome=result.outcome.value).inc()
                results.append((claim, result))
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
) -> None:
    """The next send would pass the budget: close it and every send still planned."""
    set_status(
        session,
        [{"id": c.id, "status": "suppressed", "reason": "budget_exhausted"} for c, _ in unfunded],
    )
    session.execute(
        update(PlannedSend)
        .where(PlannedSend.campaign_id == campaign_id, PlannedSend.status == "planned")
        .values(status="suppressed", reason="budget_exhausted")
    )
