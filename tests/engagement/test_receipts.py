"""SMS delivery receipts: sent through the real adapters to the emulators, reported back in the
providers' push formats, landing on the right send, once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from channels.sms_aliyun import AliyunSmsChannel, AliyunSmsSettings
from channels.sms_tencent import TencentSmsChannel, TencentSmsSettings
from db.engine import session_scope
from emulators.aliyun_sms import AliyunSmsEmulator
from emulators.server import serve
from emulators.tencent_sms import TencentSmsEmulator
from engagement.service import create_app
from engagement.summary import engagement_by_channel
from optout.inbound import sign
from tests.engagement.kit import (
    event_total,
    events_of,
    make_campaign,
    make_send,
    message_for,
    record_delivery,
)
from tests.governance.dbkit import make_customer

SECRET = "receipt-secret-0123456789"
ENV = {
    "OMNIREACH_ALIYUN_SMS_CALLBACK_SECRET": SECRET,
    "OMNIREACH_TENCENT_SMS_CALLBACK_SECRET": SECRET,
}
SIGN = "欧姆尼零售"


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, environ=ENV)) as c:
        yield c


async def _sent_through(
    engine: Engine,
    channel: AliyunSmsChannel | TencentSmsChannel,
    template: str,
    params: dict[str, str],
    count: int,
) -> tuple[str, list[int], list[str]]:
    """A campaign with `count` SMS sends made through `channel`: (campaign, send ids, phones)."""
    with session_scope(engine) as s:
        campaign = make_campaign(s)
        customers = [make_customer(s) for _ in range(count)]
        phones = [f"1390000{c.id % 10000:04d}" for c in customers]
        sends = [make_send(s, campaign, c.id, "sms", delivered=False) for c in customers]
        messages = [
            message_for(send, phone, template, params)
            for send, phone in zip(sends, phones, strict=True)
        ]
        async with channel as ch:
            results = await ch.send_batch(messages)
        for send, result in zip(sends, results, strict=True):
            assert result.outcome.value == "sent", result
            record_delivery(s, send, result)
        return campaign, [send.id for send in sends], phones


async def test_aliyun_receipts_land_on_their_sends_once(engine: Engine, client: TestClient) -> None:
    emu = AliyunSmsEmulator(
        access_key_id="LTAI5tTest",
        access_key_secret="ak-secret",
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )
    with serve(emu.app) as url:
        channel = AliyunSmsChannel(
            AliyunSmsSettings(
                access_key_id="LTAI5tTest",
                access_key_secret="ak-secret",
                sign_name=SIGN,
                endpoint=f"{url}/",
            )
        )
        campaign, ids, phones = await _sent_through(
            engine, channel, "SMS_100001", {"name": "张三"}, 3
        )
    body = json.dumps(emu.status_reports(failed={phones[1]: "MOBILE_NOT_ON_SERVICE"}))
    first = client.post("/receipts/sms/aliyun", params={"token": SECRET}, content=body)
    assert first.status_code == 200 and first.json() == {"code": 0, "msg": "接收成功"}
    with session_scope(engine) as s:
        before = event_total(s)
    again = client.post("/receipts/sms/aliyun", params={"token": SECRET}, content=body)
    assert again.status_code == 200
    with session_scope(engine) as s:
        assert event_total(s) == before
        assert [events_of(s, i) for i in ids] == [["delivered"], ["failed_delivery"], ["delivered"]]
        summary = engagement_by_channel(s, campaign)
    assert summary["sms"]["delivered"] == 2 and summary["sms"]["failed_delivery"] == 1


async def test_tencent_receipts_by_serial_number_with_signed_header(
    engine: Engine, client: TestClient
) -> None:
    emu = TencentSmsEmulator(
        secret_id="AKIDtest",
        secret_key="tc-secret",
        sdk_app_id="1400006666",
        sign_names=[SIGN],
        templates={"1110": 1},
    )
    with serve(emu.app) as url:
        channel = TencentSmsChannel(
            TencentSmsSettings(
                secret_id="AKIDtest",
                secret_key="tc-secret",
                sdk_app_id="1400006666",
                sign_name=SIGN,
                endpoint=url,
            )
        )
        _, ids, phones = await _sent_through(engine, channel, "1110", {"1": "8折"}, 2)
    body = json.dumps(emu.status_callbacks(failed={f"+86{phones[0]}": "MK:0001"})).encode()
    r = client.post(
        "/receipts/sms/tencent", content=body, headers={"X-Omnireach-Signature": sign(SECRET, body)}
    )
    assert r.status_code == 200 and r.json() == {"result": 0, "errmsg": "OK"}
    with session_scope(engine) as s:
        assert [events_of(s, i) for i in ids] == [["failed_delivery"], ["delivered"]]


def test_receipt_for_a_send_not_recorded_yet_is_asked_again(
    engine: Engine, client: TestClient
) -> None:
    report = [
        {
            "user_receive_time": "2025-03-01 18:03:04",
            "nationcode": "86",
            "mobile": "13900001111",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "ok",
            "sid": "2028:late-serial",
        }
    ]
    early = client.post("/receipts/sms/tencent", params={"token": SECRET}, json=report)
    assert early.status_code == 503
    with session_scope(engine) as s:
        campaign = make_campaign(s)
        send = make_send(
            s, campaign, make_customer(s).id, "sms", provider_message_id="2028:late-serial"
        )
    later = client.post("/receipts/sms/tencent", params={"token": SECRET}, json=report)
    assert later.status_code == 200
    with session_scope(engine) as s:
        assert events_of(s, send.id) == ["delivered"]


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({}, {}, 401),
        ({"token": "guessed-token-000000000"}, {}, 401),
        ({}, {"X-Omnireach-Signature": "sha256=" + "0" * 64}, 401),
    ],
)
def test_forged_receipts_are_refused(
    engine: Engine, client: TestClient, params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    with session_scope(engine) as s:
        before = event_total(s)
    body = json.dumps(
        [
            {
                "phone_number": "13900001111",
                "success": True,
                "biz_id": "1",
                "out_id": "x",
                "report_time": "2025-03-01 10:00:00",
            }
        ]
    )
    r = client.post("/receipts/sms/aliyun", params=params, headers=headers, content=body)
    assert r.status_code == status
    with session_scope(engine) as s:
        assert event_total(s) == before


def test_unconfigured_secret_and_bad_bodies(engine: Engine) -> None:
    with TestClient(create_app(engine, environ={})) as bare:
        assert bare.post("/receipts/sms/aliyun", json=[]).status_code == 503
    with TestClient(create_app(engine, environ=ENV)) as c:
        missing = c.post(
            "/receipts/sms/aliyun",
            params={"token": SECRET},
            json=[{"phone_number": "13912345678", "success": "yes"}],
        )
        assert missing.status_code == 400
        assert missing.json() == {"error": "[0].success: not true or false"}
        assert "13912345678" not in missing.text
        bad_status = c.post(
            "/receipts/sms/tencent",
            params={"token": SECRET},
            json=[{"sid": "1", "report_status": "MAYBE"}],
        )
        assert bad_status.json()["error"] == "[0].report_status: must be SUCCESS or FAIL"
        assert c.post("/receipts/sms/other", json=[]).status_code == 404
        huge = c.post(
            "/receipts/sms/aliyun",
            params={"token": SECRET},
            content=b"[" + b" " * (1024 * 1024) + b"]",
        )
        assert huge.status_code == 413
