from __future__ import annotations

import pytest

from channels.base import OutboundMessage, Outcome, SendResult
from channels.phones import e164
from channels.sms_tencent import (
    TencentSmsChannel,
    TencentSmsSettings,
    chunk,
    classify,
    tc3_signature,
)
from emulators.tencent_sms import TencentSmsEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

SECRET_KEY = "tencent-test-secret-key"
SIGN = "欧姆尼零售"


@pytest.fixture(scope="module")
def emu() -> TencentSmsEmulator:
    return TencentSmsEmulator(
        secret_id="AKIDtest",
        secret_key=SECRET_KEY,
        sdk_app_id="1400006666",
        sign_names=[SIGN],
        templates={"1110": 2},
    )


def channel(url: str, secret_key: str = SECRET_KEY) -> TencentSmsChannel:
    return TencentSmsChannel(
        TencentSmsSettings(
            secret_id="AKIDtest",
            secret_key=secret_key,
            sdk_app_id="1400006666",
            sign_name=SIGN,
            endpoint=url,
            timeout=FAST_TIMEOUT,
        )
    )


def sms(
    address: str = "13800138000",
    coupon: str = "8折",
    *,
    template: str = "1110",
    key: str | None = None,
) -> OutboundMessage:
    return message(address, template, params={"1": "张三", "2": coupon}, key=key)


async def send(
    url: str, *messages: OutboundMessage, secret_key: str = SECRET_KEY
) -> list[SendResult]:
    async with channel(url, secret_key) as ch:
        return await ch.send_batch(messages)


def test_signature_matches_tencent_documented_example() -> None:
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    signature, names = tc3_signature(
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        timestamp=1551113065,
        service="cvm",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Host": "cvm.tencentcloudapi.com",
        },
        payload=payload,
    )
    assert names == "content-type;host"
    assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("+852 9123 4567", "+85291234567"),
        ("00852 9123 4567", "+85291234567"),
    ],
)
def test_numbers_are_sent_in_e164(address: str, expected: str) -> None:
    assert e164(address) == expected


def test_batch_is_grouped_by_template_params_and_never_repeats_a_number() -> None:
    same = [sms("1380013800" + str(i)) for i in range(3)]
    other = sms("13800138000", coupon="9折")
    repeat = sms("13800138000")
    calls = chunk([*same, other, repeat])
    assert sorted(len(c) for c in calls) == [1, 1, 3]
    assert [repeat] in calls and [other] in calls


def test_a_call_holds_at_most_200_numbers() -> None:
    batch = [sms(f"139{i:08d}") for i in range(450)]
    assert [len(c) for c in chunk(batch)] == [200, 200, 50]


async def test_one_call_carries_a_group_with_per_number_statuses(
    emu: TencentSmsEmulator, url: str
) -> None:
    emu.faults.refuse("+8613700137000")
    emu.faults.refuse("+8613600136000", "LimitExceeded.PhoneNumberDailyLimit")
    batch = [sms("13800138000"), sms("+8613700137000"), sms("13600136000"), sms("10086")]
    results = await send(url, *batch)
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.OPTED_OUT, "FailedOperation.PhoneNumberInBlacklist"),
        (Outcome.RATE_LIMITED, "LimitExceeded.PhoneNumberDailyLimit"),
        (Outcome.PERMANENT, "InvalidParameterValue.IncorrectPhoneNumber"),
    ]
    assert len(emu.traffic) == 1
    [delivery] = emu.deliveries
    assert delivery.address == "+8613800138000"
    assert delivery.content["params"] == ["张三", "8折"]
    assert results[0].provider_message_id


async def test_session_context_carries_the_key_and_a_repeat_is_delivered_once(
    emu: TencentSmsEmulator, url: str
) -> None:
    m = sms()
    [first] = await send(url, m)
    [again] = await send(url, m)
    assert again.outcome is Outcome.SENT and again.provider_message_id == first.provider_message_id
    [delivery] = emu.deliveries
    assert delivery.content["session_context"] == m.idempotency_key


async def test_wrong_secret_fails_the_whole_call(emu: TencentSmsEmulator, url: str) -> None:
    results = await send(url, sms("13800138000"), sms("13900139000"), secret_key="wrong")
    assert {(r.outcome, r.error_code) for r in results} == {
        (Outcome.PERMANENT, "AuthFailure.SignatureFailure")
    }
    assert emu.deliveries == []


async def test_unknown_template_is_permanent(emu: TencentSmsEmulator, url: str) -> None:
    [answer] = await send(url, sms(template="9999"))
    assert (answer.outcome, answer.error_code) == (
        Outcome.PERMANENT,
        "FailedOperation.TemplateIncorrectOrUnapproved",
    )


async def test_http_faults_and_timeouts(emu: TencentSmsEmulator, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, sms, idempotent=True)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("RequestLimitExceeded", Outcome.RATE_LIMITED),
        ("1023", Outcome.RATE_LIMITED),
        ("1015", Outcome.OPTED_OUT),
        ("InternalError.Timeout", Outcome.RETRYABLE),
        ("FailedOperation.ContainSensitiveWord", Outcome.PERMANENT),
    ],
)
def test_documented_codes_map_to_outcomes(code: str, outcome: Outcome) -> None:
    assert classify(code) is outcome
