from __future__ import annotations

import pytest

from channels.base import OutboundMessage, Outcome, SendResult
from channels.sms_aliyun import (
    AliyunSmsChannel,
    AliyunSmsSettings,
    classify,
    phone_number,
    rpc_signature,
)
from emulators.aliyun_sms import AliyunSmsEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

SECRET = "aliyun-test-secret"
SIGN = "欧姆尼零售"
GOOD = "13800138000"


@pytest.fixture(scope="module")
def emu() -> AliyunSmsEmulator:
    return AliyunSmsEmulator(
        access_key_id="LTAI5tTest",
        access_key_secret=SECRET,
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )


def channel(url: str, secret: str = SECRET) -> AliyunSmsChannel:
    return AliyunSmsChannel(
        AliyunSmsSettings(
            access_key_id="LTAI5tTest",
            access_key_secret=secret,
            sign_name=SIGN,
            endpoint=f"{url}/",
            timeout=FAST_TIMEOUT,
        )
    )


def sms(address: str = GOOD, template: str = "SMS_100001", **kw: str) -> OutboundMessage:
    return message(address, template, params={"name": "张三", **kw})


async def send(url: str, *messages: OutboundMessage, secret: str = SECRET) -> list[SendResult]:
    async with channel(url, secret) as ch:
        return await ch.send_batch(messages)


def test_signature_matches_alibaba_documented_example() -> None:
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert rpc_signature(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


async def test_batch_is_sent_with_out_id_and_template_params(
    emu: AliyunSmsEmulator, url: str
) -> None:
    first, second = sms(), sms("+86 139-0013-9000")
    results = await send(url, first, second)
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert [r.idempotency_key for r in results] == [first.idempotency_key, second.idempotency_key]
    assert all(r.provider_message_id for r in results)
    by_key = {d.key: d for d in emu.deliveries}
    assert by_key[first.idempotency_key].address == GOOD
    assert by_key[second.idempotency_key].address == "13900139000"
    assert by_key[first.idempotency_key].content == {"name": "张三"}


def test_international_numbers_keep_their_country_code() -> None:
    assert phone_number("+852 9123 4567") == "85291234567"
    assert phone_number("0086 138 0013 8000") == "13800138000"


async def test_repeated_out_id_is_delivered_once(emu: AliyunSmsEmulator, url: str) -> None:
    m = sms()
    [first] = await send(url, m)
    [again] = await send(url, m)
    assert again.outcome is Outcome.SENT
    assert again.provider_message_id == first.provider_message_id
    assert len(emu.deliveries) == 1


async def test_wrong_secret_is_rejected_by_the_signature_check(
    emu: AliyunSmsEmulator, url: str
) -> None:
    [answer] = await send(url, sms(), secret="not-the-secret")
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "SignatureDoesNotMatch")
    assert emu.deliveries == []


async def test_each_message_of_a_batch_gets_its_own_outcome(
    emu: AliyunSmsEmulator, url: str
) -> None:
    emu.faults.refuse("13700137000")
    emu.faults.refuse("13600136000", "isv.BUSINESS_LIMIT_CONTROL")
    batch = [
        sms(),
        sms("12345"),
        sms("13700137000"),
        sms("13600136000"),
        sms(template="SMS_UNKNOWN"),
        message(GOOD, "SMS_100001"),
    ]
    results = await send(url, *batch)
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.PERMANENT, "isv.MOBILE_NUMBER_ILLEGAL"),
        (Outcome.OPTED_OUT, "isv.CUSTOMER_REFUSED"),
        (Outcome.RATE_LIMITED, "isv.BUSINESS_LIMIT_CONTROL"),
        (Outcome.PERMANENT, "isv.SMS_TEMPLATE_ILLEGAL"),
        (Outcome.PERMANENT, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ]
    assert len(emu.deliveries) == 1


async def test_http_faults_and_timeouts(emu: AliyunSmsEmulator, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, sms, idempotent=True)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("isp.SYSTEM_ERROR", Outcome.RETRYABLE),
        ("Throttling.User", Outcome.RATE_LIMITED),
        ("isv.DAY_LIMIT_CONTROL", Outcome.RATE_LIMITED),
        ("isv.SMS_CONTENT_ILLEGAL", Outcome.PERMANENT),
        ("isv.AMOUNT_NOT_ENOUGH", Outcome.RETRYABLE),
    ],
)
def test_documented_codes_map_to_outcomes(code: str, outcome: Outcome) -> None:
    assert classify(code) is outcome
