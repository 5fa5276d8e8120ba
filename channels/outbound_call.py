"""Outbound calls through a call center or AI-voice platform behind a signed webhook.

Sending creates a call task (`sent` = the platform accepted it); the call happens later and the
platform POSTs the result to our callback URL, signed the same way. `parse_callback` verifies
and reads that body. Request and answers follow `channels.contract`; the task's `task_id` is the
idempotency key, so the platform can dedupe and the callback can be matched to the message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from channels.base import OutboundMessage, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.contract import contract_result, post_signed
from channels.http import SettingsChannel
from channels.phones import e164
from channels.signing import DEFAULT_TOLERANCE, verify_signature


class CallResult(StrEnum):
    ANSWERED = "answered"
    REFUSED = "refused"  # picked up and declined, or asked not to be called: suppress
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the number could not be reached at all


@dataclass(frozen=True)
class CallReport:
    """What the platform reports once a call task is done."""

    task_id: str  # = the message's idempotency key
    call_id: str | None
    result: CallResult
    duration_seconds: int
    ended_at: datetime | None
    caller: str | None = None  # the number the platform called from
    recording: str | None = None  # where the platform keeps the call's recording


class CallbackError(ValueError):
    """A callback whose signature does not verify or whose body is malformed."""


@dataclass(frozen=True)
class OutboundCallSettings:
    url: str
    secret: str = field(repr=False)
    callback_url: str | None = None
    caller_id: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OutboundCallSettings:
        env = Env("OUTBOUND_CALL", environ)
        return cls(
            url=env.require("URL"),
            secret=env.require("SECRET"),
            callback_url=env.optional("CALLBACK_URL"),
            caller_id=env.optional("CALLER_ID"),
            **env.http_limits(),
        )


class OutboundCallChannel(SettingsChannel[OutboundCallSettings]):
    """`Channel` that creates one call task per message; `address` is the phone number."""

    name = "outbound_call"

    def payload(self, message: OutboundMessage) -> dict[str, object]:
        return {
            "task_id": message.idempotency_key,
            "campaign_id": message.campaign_id,
            "phone": e164(message.address),
            "caller_id": self.settings.caller_id,
            "script": message.template,
            "text": message.body,
            "variables": message.params,
            "callback_url": self.settings.callback_url,
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


def parse_callback(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> CallReport:
    """Verify a result callback and read it; raises `CallbackError` if it cannot be trusted."""
    if not verify_signature(secret, headers, body, tolerance=tolerance, now=now):
        raise CallbackError("signature missing, stale or wrong")
    try:
        data = json.loads(body)
        ended_at = data.get("ended_at")
        return CallReport(
            task_id=str(data["task_id"]),
            call_id=str(data["call_id"]) if data.get("call_id") else None,
            result=CallResult(data["result"]),
            duration_seconds=int(data.get("duration_seconds", 0)),
            ended_at=datetime.fromisoformat(ended_at) if ended_at else None,
            caller=_text(data.get("caller_id"), 32),
            recording=_text(data.get("recording_url"), 256),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CallbackError(f"malformed callback body: {exc}") from exc


def _text(value: object, limit: int) -> str | None:
    """An optional text field of the callback, refused when it is not text or too long."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"expected text of at most {limit} characters, got {value!r:.40}")
    return value
