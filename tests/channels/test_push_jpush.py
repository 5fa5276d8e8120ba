from __future__ import annotations

import pytest

from channels.base import OutboundMessage, Outcome
from channels.push_jpush import JPushChannel, JPushSettings, classify
from emulators.jpush import JPushEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

APP_KEY = "8103a4c628a0b98974ec1949"
SECRET = "jpush-master-secret"
DEVICES = ["1a0018970a8f3f8c6b1", "160a3797c8f3bc3a4b2", "171976fa8a8085fcdba"]


@pytest.fixture(scope="module")
def emu() -> JPushEmulator:
    return JPushEmulator(app_key=APP_KEY, master_secret=SECRET, devices=DEVICES)


def channel(url: str, secret: str = SECRET) -> JPushChannel:
    return JPushChannel(
        JPushSettings(app_key=APP_KEY, master_secret=secret, base_url=url, timeout=FAST_TIMEOUT)
    )


def push(device: str = DEVICES[0], key: str | None = None) -> OutboundMessage:
    return message(
        device, "push_coupon", key=key, subject="会员日", params={"deeplink": "app://coupon/7"}
    )


async def test_push_uses_an_issued_cid_and_reuses_it_for_the_same_key(
    emu: JPushEmulator, url: str
) -> None:
    m = push()
    async with channel(url) as ch:
        [first] = await ch.send_batch([m])
        [again] = await ch.send_batch([m])
        cid = ch.cids.known(m.idempotency_key)
    assert first.outcome is again.outcome is Outcome.SENT
    assert again.provider_message_id == first.provider_message_id
    [delivery] = emu.deliveries
    assert delivery.key == cid and cid in emu.issued and cid.startswith(f"{APP_KEY}-")
    assert delivery.content["notification"]["android"]["title"] == "会员日"
    assert delivery.content["notification"]["ios"]["extras"] == {"deeplink": "app://coupon/7"}


async def test_cid_pool_is_refilled_in_batches(emu: JPushEmulator, url: str) -> None:
    async with channel(url) as ch:
        results = await ch.send_batch([push(DEVICES[i % 3]) for i in range(25)])
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert [p for p, _ in emu.traffic].count("/v3/push/cid") == 3
    assert len({d.key for d in emu.deliveries}) == 25


async def test_unknown_or_refused_device_is_opted_out(emu: JPushEmulator, url: str) -> None:
    emu.faults.refuse(DEVICES[1])
    async with channel(url) as ch:
        results = await ch.send_batch([push("nosuchdevice"), push(DEVICES[1]), push()])
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.OPTED_OUT, "1011"),
        (Outcome.OPTED_OUT, "1011"),
        (Outcome.SENT, None),
    ]


async def test_wrong_master_secret_fails_the_batch_on_one_request(
    emu: JPushEmulator, url: str
) -> None:
    async with channel(url, secret="wrong") as ch:
        results = await ch.send_batch([push(), push(DEVICES[1]), push(DEVICES[2])])
    assert {(r.outcome, r.error_code) for r in results} == {(Outcome.PERMANENT, "cid_1004")}
    assert emu.traffic == [("/v3/push/cid", 401)]
    assert emu.deliveries == []


async def test_rate_limit_reset_header_gives_retry_after(emu: JPushEmulator, url: str) -> None:
    async with channel(url) as ch:
        await ch.send_batch([push()])
        emu.faults.rate_limit(retry_after=None)
        [limited] = await ch.send_batch([push()])
    assert (limited.outcome, limited.retry_after) == (Outcome.RATE_LIMITED, 60.0)


async def test_http_faults_and_timeouts(emu: JPushEmulator, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, push, idempotent=True)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (1000, Outcome.RETRYABLE),
        (2002, Outcome.RATE_LIMITED),
        (2008, Outcome.RATE_LIMITED),
        (1003, Outcome.PERMANENT),
        (1004, Outcome.PERMANENT),
        (1011, Outcome.OPTED_OUT),
    ],
)
def test_documented_codes_map_to_outcomes(code: int, outcome: Outcome) -> None:
    assert classify(code) is outcome
