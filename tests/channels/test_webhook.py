from __future__ import annotations

import json

import httpx
import pytest

from channels.base import Outcome
from channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from channels.webhook import WebhookChannel, WebhookSettings, verify_signature
from emulators.webhook import WebhookReceiver
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

SECRET = "whsec-test"


@pytest.fixture(scope="module")
def emu() -> WebhookReceiver:
    return WebhookReceiver(secret=SECRET)


def channel(url: str, secret: str = SECRET) -> WebhookChannel:
    return WebhookChannel(WebhookSettings(url=f"{url}/", secret=secret, timeout=FAST_TIMEOUT))


def test_verify_signature_accepts_fresh_exact_bodies_only() -> None:
    body = b'{"a":1}'
    headers = signed_headers(SECRET, body, now=1_700_000_000)
    assert verify_signature(SECRET, headers, body, now=1_700_000_100)
    assert not verify_signature(SECRET, headers, b'{"a":2}', now=1_700_000_100)
    assert not verify_signature("other", headers, body, now=1_700_000_100)
    assert not verify_signature(SECRET, headers, body, now=1_700_001_000)
    assert not verify_signature(SECRET, {TIMESTAMP_HEADER: "x", SIGNATURE_HEADER: "v1=0"}, body)


async def test_message_is_posted_signed_with_its_idempotency_key(
    emu: WebhookReceiver, url: str
) -> None:
    m = message("crm-customer-42", "wh_coupon", params={"coupon": "C8"})
    async with channel(url) as ch:
        [first] = await ch.send_batch([m])
        [again] = await ch.send_batch([m])
    assert first.outcome is again.outcome is Outcome.SENT
    assert again.provider_message_id == first.provider_message_id
    [delivery] = emu.deliveries
    assert delivery.key == m.idempotency_key
    assert delivery.content["params"] == {"coupon": "C8"}
    assert delivery.content["customer_id"] == 42


async def test_wrong_secret_is_rejected(emu: WebhookReceiver, url: str) -> None:
    async with channel(url, secret="not-it") as ch:
        [answer] = await ch.send_batch([message("crm-1", "wh")])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "bad_signature")
    assert emu.deliveries == []


async def test_gone_means_opted_out(emu: WebhookReceiver, url: str) -> None:
    emu.faults.refuse("crm-unsubscribed")
    async with channel(url) as ch:
        [answer] = await ch.send_batch([message("crm-unsubscribed", "wh")])
    assert (answer.outcome, answer.error_code) == (Outcome.OPTED_OUT, "unsubscribed")


async def test_receiver_refuses_unsigned_requests(emu: WebhookReceiver, url: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}/", content=json.dumps({"address": "x"}), headers={"Idempotency-Key": "k"}
        )
    assert response.status_code == 401


async def test_http_faults_and_timeouts(emu: WebhookReceiver, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, lambda: message("crm-1", "wh"), idempotent=True)
