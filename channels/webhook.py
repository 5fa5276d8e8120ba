"""Generic signed webhook: each message is POSTed as JSON to one configured URL.

For systems we integrate with that have no dedicated adapter (a brand's own app backend, a
partner's CRM). The wire contract is in `channels.contract`; receivers check requests with
`verify_signature(secret, request.headers, raw_body)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from channels.base import OutboundMessage, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.contract import contract_result, post_signed
from channels.http import SettingsChannel
from channels.signing import verify_signature

__all__ = ["WebhookChannel", "WebhookSettings", "verify_signature"]


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        env = Env("WEBHOOK", environ)
        return cls(
            url=env.require("URL"),
            secret=env.require("SECRET"),
            **env.http_limits(),
        )


class WebhookChannel(SettingsChannel[WebhookSettings]):
    """`Channel` that hands each message to a webhook receiver."""

    name = "webhook"

    @staticmethod
    def payload(message: OutboundMessage) -> dict[str, object]:
        return {
            "idempotency_key": message.idempotency_key,
            "campaign_id": message.campaign_id,
            "customer_id": message.customer_id,
            "channel": message.channel,
            "address": message.address,
            "template": message.template,
            "subject": message.subject,
            "body": message.body,
            "params": message.params,
            "marketing": message.marketing,
        }

    async def send_one(self, message: OutboundMessage) -> SendResult:
        response = await post_signed(
            self.client,
            self.settings.url,
            self.settings.secret,
            message.idempotency_key,
            self.payload(message),
        )
        return contract_result(message, response)
