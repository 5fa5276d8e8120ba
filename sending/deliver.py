"""Turning claimed sends into provider calls: render each message, respect the channel's limits,
and map anything unexpected from an adapter to a retryable answer instead of a crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from channels.base import Channel, OutboundMessage, Outcome, SendResult
from content.local_time import customer_time
from content.render import TemplateError, render_message
from content.sandbox import template_variables
from models.spec import CampaignSpec
from optout.links import unsubscribe_url
from sending.claim import Claimed
from sending.rate_limit import RateLimiter
from sending.recipients import Recipient

log = logging.getLogger(__name__)


def build_message(
    campaign_id: str, spec: CampaignSpec, name: str, claim: Claimed, recipient: Recipient
) -> OutboundMessage | None:
    """The rendered message for one send, or None when its template cannot render."""
    plan = spec.content(claim.channel, claim.step, claim.variant)
    link = unsubscribe_url(claim.customer_id, claim.channel, campaign_id)
    variables = dict(
        recipient.variables,
        campaign_name=name,
        unsubscribe_url=link,
        end_time=customer_time(spec.send_window.end, recipient.timezone),
    )
    try:
        rendered = render_message(plan.subject, plan.body, variables)
    except TemplateError:
        return None
    assert recipient.address is not None
    # Template providers (SMS, WeChat, Alipay) fill their registered template from parameters,
    # not from our rendered body: pass the values of the variables the template uses.
    params = {name: variables[name] for name in template_variables(plan.body) if name in variables}
    return OutboundMessage(
        idempotency_key=claim.idempotency_key,
        campaign_id=campaign_id,
        customer_id=claim.customer_id,
        channel=claim.channel,
        address=recipient.address,
        template=claim.template,
        body=rendered.body,
        subject=rendered.subject,
        params=params | {"unsubscribe_url": link},
        marketing=plan.marketing,
    )


async def deliver(
    channel: Channel,
    limiter: RateLimiter | None,
    messages: Sequence[OutboundMessage],
    may_send: Callable[[], Awaitable[bool]] | None = None,
) -> list[SendResult]:
    """Send through the adapter in rate-limited chunks; an adapter crash is retryable. Right
    before each provider call `may_send` is asked; a chunk it refuses is answered HALTED."""
    if not messages:
        return []
    size = len(messages) if limiter is None else max(1, min(len(messages), int(limiter.rate)))
    parts = [messages[i : i + size] for i in range(0, len(messages), size)]

    async def call(part: Sequence[OutboundMessage]) -> list[SendResult]:
        if may_send is not None and not await may_send():
            return [SendResult(m.idempotency_key, Outcome.HALTED) for m in part]
        return await channel.send_batch(part)

    async def one(part: Sequence[OutboundMessage]) -> list[SendResult]:
        try:
            if limiter is None:
                return await call(part)
            async with limiter.slot(len(part)):
                return await call(part)
        except Exception as exc:  # noqa: BLE001 - one broken adapter call must not lose sends
            log.warning(
                "channel %s failed a batch of %d: %s", channel.name, len(part), type(exc).__name__
            )
            return [
                SendResult(m.idempotency_key, Outcome.RETRYABLE, error_code="adapter_error")
                for m in part
            ]

    answers = await asyncio.gather(*(one(p) for p in parts))
    return [r for batch in answers for r in batch]
