from __future__ import annotations

import pytest

from channels.base import Outcome
from channels.outbound_call import (
    CallbackError,
    CallResult,
    OutboundCallChannel,
    OutboundCallSettings,
    parse_callback,
)
from emulators.call_center import CallCenterEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

SECRET = "callcenter-secret"


@pytest.fixture(scope="module")
def emu() -> CallCenterEmulator:
    return CallCenterEmulator(secret=SECRET)


def channel(url: str, secret: str = SECRET) -> OutboundCallChannel:
    return OutboundCallChannel(
        OutboundCallSettings(
            url=f"{url}/calls",
            secret=secret,
            callback_url="https://omnireach.example/calls/result",
            timeout=FAST_TIMEOUT,
        )
    )


def call(phone: str = "+86 138 0013 8000"):
    return message(phone, "ai_voice_reactivate", params={"name": "张先生"})


async def test_call_task_is_created_and_its_result_comes_back_signed(
    emu: CallCenterEmulator, url: str
) -> None:
    m = call()
    async with channel(url) as ch:
        [created] = await ch.send_batch([m])
    assert created.outcome is Outcome.SENT and created.provider_message_id
    [task] = emu.deliveries
    assert task.address == "+8613800138000" and task.key == m.idempotency_key
    assert task.content["callback_url"] == "https://omnireach.example/calls/result"

    headers, body = emu.callback(m.idempotency_key, "refused", duration_seconds=12)
    report = parse_callback(SECRET, headers, body)
    assert (report.task_id, report.result, report.duration_seconds) == (
        m.idempotency_key,
        CallResult.REFUSED,
        12,
    )
    assert report.call_id == created.provider_message_id
    with pytest.raises(CallbackError):
        parse_callback("other-secret", headers, body)
    with pytest.raises(CallbackError):
        parse_callback(SECRET, headers, body.replace(b"refused", b"answered"))


async def test_repeat_is_one_task_and_bad_numbers_are_refused(
    emu: CallCenterEmulator, url: str
) -> None:
    emu.faults.refuse("+8613900139000")
    m = call()
    async with channel(url) as ch:
        results = await ch.send_batch([m, m, call("010-1234"), call("13900139000")])
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.SENT, None),
        (Outcome.PERMANENT, "invalid_number"),
        (Outcome.OPTED_OUT, "do_not_call"),
    ]
    assert len(emu.deliveries) == 1


async def test_wrong_secret_is_rejected(emu: CallCenterEmulator, url: str) -> None:
    async with channel(url, secret="wrong") as ch:
        [answer] = await ch.send_batch([call()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "bad_signature")


async def test_http_faults_and_timeouts(emu: CallCenterEmulator, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, call, idempotent=True)
