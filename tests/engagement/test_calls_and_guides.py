"""Call results (a refusal sets do-not-call) and WeCom guide confirmations."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from channels.outbound_call import OutboundCallChannel, OutboundCallSettings
from channels.signing import signed_headers
from channels.wecom import WeComChannel, WeComSettings
from db.engine import session_scope
from emulators.call_center import CallCenterEmulator
from emulators.server import serve
from emulators.wecom import WeComEmulator
from engagement.service import create_app
from engagement.summary import engagement_by_channel
from engagement.wecom_poll import poll_guide_confirmations
from models.tables import ConsentEvent
from tests.engagement.kit import (
    events_of,
    make_campaign,
    make_send,
    message_for,
    record_delivery,
)
from tests.governance.dbkit import is_contactable, make_customer, unique_phone

CALL_SECRET = "callcenter-secret-0123"


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    env = {"OMNIREACH_OUTBOUND_CALL_SECRET": CALL_SECRET}
    with TestClient(create_app(engine, environ=env)) as c:
        yield c


@pytest.fixture(scope="module")
def call_center() -> Iterator[tuple[CallCenterEmulator, str]]:
    emu = CallCenterEmulator(secret=CALL_SECRET)
    with serve(emu.app) as url:
        yield emu, url


async def _called(engine: Engine, emu_url: str) -> tuple[int, int, str, str]:
    """A customer with call consent and a call task made: (customer, send, task, campaign)."""
    with session_scope(engine) as s:
        phone = unique_phone()
        customer = make_customer(s, phone=phone, grant=("outbound_call", "sms"))
        send = make_send(s, make_campaign(s), customer.id, "outbound_call", delivered=False)
        channel = OutboundCallChannel(
            OutboundCallSettings(url=f"{emu_url}/calls", secret=CALL_SECRET)
        )
        async with channel as ch:
            [result] = await ch.send_batch([message_for(send, phone, "ai_voice", {})])
        record_delivery(s, send, result)
        return customer.id, send.id, send.idempotency_key, send.campaign_id


async def test_refused_call_sets_do_not_call_once(
    engine: Engine, client: TestClient, call_center: tuple[CallCenterEmulator, str]
) -> None:
    emu, url = call_center
    customer_id, send_id, task, _ = await _called(engine, url)
    headers, body = emu.callback(task, "refused", duration_seconds=12)
    assert client.post("/calls/result", headers=headers, content=body).status_code == 200
    with session_scope(engine) as s:
        assert not is_contactable(s, customer_id, "outbound_call")
        assert is_contactable(s, customer_id, "sms")
        consents = s.execute(
            select(func.count())
            .select_from(ConsentEvent)
            .where(ConsentEvent.customer_id == customer_id)
        ).scalar_one()
    again_headers, again = emu.callback(task, "refused", duration_seconds=12)
    assert client.post("/calls/result", headers=again_headers, content=again).status_code == 200
    with session_scope(engine) as s:
        assert events_of(s, send_id) == ["call_refused", "unsubscribed"]
        assert (
            s.execute(
                select(func.count())
                .select_from(ConsentEvent)
                .where(ConsentEvent.customer_id == customer_id)
            ).scalar_one()
            == consents
        )


async def test_answered_call_counts_as_delivered(
    engine: Engine, client: TestClient, call_center: tuple[CallCenterEmulator, str]
) -> None:
    emu, url = call_center
    _, send_id, task, campaign = await _called(engine, url)
    headers, body = emu.callback(task, "answered", duration_seconds=48)
    assert client.post("/calls/result", headers=headers, content=body).status_code == 200
    with session_scope(engine) as s:
        assert events_of(s, send_id) == ["call_answered"]
        assert engagement_by_channel(s, campaign)["outbound_call"]["delivered"] == 1


def test_forged_stale_or_unknown_call_results(client: TestClient) -> None:
    body = json.dumps({"task_id": "nobody:1:outbound_call:1", "result": "refused"}).encode()
    forged = signed_headers("not-the-secret", body)
    assert client.post("/calls/result", headers=forged, content=body).status_code == 401
    stale = signed_headers(CALL_SECRET, body, now=time.time() - 3600)
    assert client.post("/calls/result", headers=stale, content=body).status_code == 401
    fresh = signed_headers(CALL_SECRET, body)
    assert client.post("/calls/result", headers=fresh, content=body).status_code == 503
    junk = json.dumps({"task_id": "x", "result": "maybe"}).encode()
    answer = client.post("/calls/result", headers=signed_headers(CALL_SECRET, junk), content=junk)
    assert answer.status_code == 400


async def test_guide_confirmation_poller(engine: Engine) -> None:
    emu = WeComEmulator(
        corp_id="ww0123456789", secret="wecom-secret", guides={"zhangsan": ["wmA1", "wmA2", "wmA3"]}
    )
    with session_scope(engine) as s:
        campaign = make_campaign(s)
        sends = []
        for openid in ("wmA1", "wmA2", "wmA3"):
            customer = make_customer(s)
            customer.wechat_openid = openid
            sends.append((make_send(s, campaign, customer.id, "wecom", delivered=False), openid))
    with serve(emu.app) as url:
        channel = WeComChannel(
            WeComSettings(
                corp_id="ww0123456789",
                secret="wecom-secret",
                default_sender="zhangsan",
                base_url=url,
            )
        )
        async with channel as ch:
            with session_scope(engine) as s:
                messages = [message_for(send, openid, "wecom_text", {}) for send, openid in sends]
                results = await ch.send_batch(messages)
                for (send, _), result in zip(sends, results, strict=True):
                    record_delivery(s, s.merge(send), result)
            waiting = await poll_guide_confirmations(engine, ch, campaign_id=campaign)
            assert (waiting.tasks, waiting.pending, waiting.confirmed) == (1, 3, 0)
            emu.received_today.add("wmA3")  # another group message reached wmA3 today
            emu.confirm(str(results[0].provider_message_id))
            done = await poll_guide_confirmations(engine, ch, campaign_id=campaign)
            assert (done.tasks, done.confirmed, done.not_sent, done.pending) == (1, 2, 1, 0)
            after = await poll_guide_confirmations(engine, ch, campaign_id=campaign)
            assert after.tasks == 0
    with session_scope(engine) as s:
        assert [events_of(s, send.id) for send, _ in sends] == [
            ["guide_confirmed"],
            ["guide_confirmed"],
            ["guide_not_sent"],
        ]
        summary = engagement_by_channel(s, campaign)["wecom"]
    assert (summary["delivered"], summary["failed_delivery"]) == (2, 1)
