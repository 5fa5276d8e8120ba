"""WeChat server pushes: URL check, signature, subscribe accept/reject and send results."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from channels.wechat_subscribe import WeChatSettings, WeChatSubscribeChannel
from db.engine import session_scope
from emulators.server import serve
from emulators.wechat import WeChatEmulator, subscribe_push
from engagement.service import create_app
from engagement.wechat_events import signature
from models.engagement_tables import MessageEvent
from tests.engagement.kit import (
    event_total,
    events_of,
    make_campaign,
    make_send,
    message_for,
    record_delivery,
)
from tests.governance.dbkit import make_customer

TOKEN = "wx-server-token-0123456789"
ENV = {"OMNIREACH_WECHAT_MINI_CALLBACK_SECRET": TOKEN}
TEMPLATE = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc"
OTHER = "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI"


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, environ=ENV)) as c:
        yield c


def customer_with_openid(engine: Engine) -> tuple[int, str]:
    openid = "oUpF8" + uuid.uuid4().hex[:23]
    with session_scope(engine) as s:
        customer = make_customer(s)
        customer.wechat_openid = openid
        return customer.id, openid


def subscribe_events(engine: Engine, customer_id: int) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(MessageEvent.event_type, MessageEvent.detail)
            .where(MessageEvent.customer_id == customer_id)
            .order_by(MessageEvent.id)
        ).all()
    return [(kind, detail["template_id"]) for kind, detail in rows]


def test_url_check_echoes_only_with_the_right_signature(client: TestClient) -> None:
    query = {"timestamp": "1700000000", "nonce": "42", "echostr": "hello-wechat"}
    good = client.get(
        "/wechat/wechat_mini", params={**query, "signature": signature(TOKEN, "1700000000", "42")}
    )
    assert good.status_code == 200 and good.text == "hello-wechat"
    bad = client.get(
        "/wechat/wechat_mini",
        params={**query, "signature": signature("wrong-token", "1700000000", "42")},
    )
    assert bad.status_code == 401 and "hello-wechat" not in bad.text
    assert client.get("/wechat/wechat_oa", params=query).status_code == 503  # not configured
    assert client.get("/wechat/alipay", params=query).status_code == 404


@pytest.mark.parametrize("as_json", [False, True])
def test_popup_accept_and_reject_are_stored_once_per_push(
    engine: Engine, client: TestClient, as_json: bool
) -> None:
    customer_id, openid = customer_with_openid(engine)
    query, body = subscribe_push(
        TOKEN,
        "subscribe_msg_popup_event",
        openid,
        [
            {"TemplateId": TEMPLATE, "SubscribeStatusString": "accept", "PopupScene": "0"},
            {"TemplateId": OTHER, "SubscribeStatusString": "reject", "PopupScene": "0"},
        ],
        as_json=as_json,
        create_time=1700000000,
    )
    for _ in range(2):  # WeChat redelivers when it does not hear back in time
        r = client.post("/wechat/wechat_mini", params=query, content=body)
        assert r.status_code == 200 and r.text == "success"
    assert subscribe_events(engine, customer_id) == [
        ("subscribe_accepted", TEMPLATE),
        ("subscribe_rejected", OTHER),
    ]
    later_query, later = subscribe_push(
        TOKEN,
        "subscribe_msg_popup_event",
        openid,
        [{"TemplateId": TEMPLATE, "SubscribeStatusString": "accept", "PopupScene": "0"}],
        create_time=1700000100,
    )
    client.post("/wechat/wechat_mini", params=later_query, content=later)
    assert subscribe_events(engine, customer_id)[-1] == ("subscribe_accepted", TEMPLATE)
    assert len(subscribe_events(engine, customer_id)) == 3


async def test_send_result_event_lands_on_the_send(engine: Engine, client: TestClient) -> None:
    customer_id, openid = customer_with_openid(engine)
    emu = WeChatEmulator(
        app_id="wx1234567890abcdef", app_secret="app-secret", templates={TEMPLATE: ["thing1"]}
    )
    emu.grant(openid, TEMPLATE)
    with session_scope(engine) as s:
        send = make_send(s, make_campaign(s), customer_id, "wechat_mini", delivered=False)
        with serve(emu.app) as url:
            channel = WeChatSubscribeChannel(
                WeChatSettings(app_id="wx1234567890abcdef", app_secret="app-secret", base_url=url)
            )
            async with channel as ch:
                [result] = await ch.send_batch(
                    [message_for(send, openid, TEMPLATE, {"thing1": "预约提醒"})]
                )
        record_delivery(s, send, result)
    query, body = subscribe_push(
        TOKEN,
        "subscribe_msg_sent_event",
        openid,
        [
            {
                "TemplateId": TEMPLATE,
                "MsgID": str(result.provider_message_id),
                "ErrorCode": "0",
                "ErrorStatus": "success",
            }
        ],
    )
    assert client.post("/wechat/wechat_mini", params=query, content=body).status_code == 200
    with session_scope(engine) as s:
        assert events_of(s, send.id) == ["delivered"]
    unknown_q, unknown = subscribe_push(
        TOKEN,
        "subscribe_msg_sent_event",
        openid,
        [{"TemplateId": TEMPLATE, "MsgID": "999", "ErrorCode": "0", "ErrorStatus": "success"}],
    )
    assert client.post("/wechat/wechat_mini", params=unknown_q, content=unknown).status_code == 503


def test_forged_or_hostile_pushes_store_nothing(engine: Engine, client: TestClient) -> None:
    _, openid = customer_with_openid(engine)
    with session_scope(engine) as s:
        before = event_total(s)
    query, body = subscribe_push(
        "someone-elses-token-000",
        "subscribe_msg_popup_event",
        openid,
        [{"TemplateId": TEMPLATE, "SubscribeStatusString": "accept"}],
    )
    assert client.post("/wechat/wechat_mini", params=query, content=body).status_code == 401
    good_query, _ = subscribe_push(TOKEN, "subscribe_msg_popup_event", openid, [])
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b"<xml><Event>&b;</Event></xml>"
    )
    assert client.post("/wechat/wechat_mini", params=good_query, content=bomb).status_code == 400
    assert (
        client.post(
            "/wechat/wechat_mini", params=good_query, content=b"<xml><MsgType>text</MsgType></xml>"
        ).text
        == "success"
    )
    with session_scope(engine) as s:
        assert event_total(s) == before
