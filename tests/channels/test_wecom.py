from __future__ import annotations

import pytest

from channels.base import OutboundMessage, Outcome
from channels.http import ProviderError
from channels.wecom import GroupMsgStatus, WeComChannel, WeComSettings
from emulators.wecom import WeComEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

SECRET = "wecom-secret"
GUIDE = "zhangsan"
FRIENDS = ["wmA1", "wmA2", "wmA3"]


@pytest.fixture(scope="module")
def emu() -> WeComEmulator:
    return WeComEmulator(
        corp_id="ww0123456789", secret=SECRET, guides={GUIDE: FRIENDS, "lisi": ["wmB1"]}
    )


def channel(url: str, secret: str = SECRET, default_sender: str | None = GUIDE) -> WeComChannel:
    return WeComChannel(
        WeComSettings(
            corp_id="ww0123456789",
            secret=secret,
            default_sender=default_sender,
            base_url=url,
            timeout=FAST_TIMEOUT,
        )
    )


def guide_message(
    customer: str, body: str = "张女士您好，周末会员日全场8折～", **params: str
) -> OutboundMessage:
    return message(customer, "wecom_text", body=body, params=params)


async def test_same_guide_and_text_share_one_task(emu: WeComEmulator, url: str) -> None:
    batch = [
        guide_message("wmA1"),
        guide_message("wmA2"),
        guide_message("wmGONE"),
        guide_message("wmB1", sender="lisi"),
    ]
    async with channel(url) as ch:
        results = await ch.send_batch(batch)
    assert [r.outcome for r in results] == [
        Outcome.SENT,
        Outcome.SENT,
        Outcome.OPTED_OUT,
        Outcome.SENT,
    ]
    assert results[2].error_code == "fail_list"
    assert results[0].provider_message_id == results[1].provider_message_id
    assert results[0].provider_message_id != results[3].provider_message_id
    task_calls = [p for p, _ in emu.traffic if p.endswith("add_msg_template")]
    assert len(task_calls) == 2
    assert {d.address for d in emu.deliveries} == {"wmA1", "wmA2", "wmB1"}


async def test_task_result_shows_whether_the_guide_sent_it(emu: WeComEmulator, url: str) -> None:
    async with channel(url) as ch:
        first = await ch.send_batch([guide_message("wmA1")])
        emu.confirm(str(first[0].provider_message_id))
        second = await ch.send_batch(
            [guide_message("wmA1", body="another"), guide_message("wmA2", body="another")]
        )
        msgid = str(second[0].provider_message_id)
        pending = await ch.get_groupmsg_send_result(msgid, GUIDE)
        emu.confirm(msgid)
        done = await ch.get_groupmsg_send_result(msgid, GUIDE)
    assert {s.status for s in pending} == {GroupMsgStatus.UNSENT}
    assert {s.external_userid: s.status for s in done} == {
        "wmA1": GroupMsgStatus.ALREADY_RECEIVED,
        "wmA2": GroupMsgStatus.SENT,
    }


async def test_results_are_read_across_pages(emu: WeComEmulator, url: str) -> None:
    many = [f"wmP{i}" for i in range(1205)]
    emu.guides["wang"] = set(many)
    async with channel(url, default_sender="wang") as ch:
        results = await ch.send_batch([guide_message(c) for c in many])
        statuses = await ch.get_groupmsg_send_result(str(results[0].provider_message_id), "wang")
    assert len(statuses) == 1205
    assert sum(p.endswith("get_groupmsg_send_result") for p, _ in emu.traffic) == 2


async def test_missing_sender_and_unknown_guide_are_permanent(emu: WeComEmulator, url: str) -> None:
    async with channel(url, default_sender=None) as ch:
        results = await ch.send_batch(
            [guide_message("wmA1"), guide_message("wmA1", sender="nobody")]
        )
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.PERMANENT, "missing_sender"),
        (Outcome.PERMANENT, "60111"),
    ]


async def test_expired_token_is_refreshed_and_wrong_secret_rejected(
    emu: WeComEmulator, url: str
) -> None:
    async with channel(url) as ch:
        await ch.send_batch([guide_message("wmA1")])
        emu.expire_tokens()
        [after] = await ch.send_batch([guide_message("wmA2")])
    async with channel(url, secret="wrong") as ch:
        [rejected] = await ch.send_batch([guide_message("wmA3")])
        with pytest.raises(ProviderError):
            await ch.get_groupmsg_send_result("msgX", GUIDE)
    assert after.outcome is Outcome.SENT
    assert (rejected.outcome, rejected.error_code) == (Outcome.PERMANENT, "token_40001")
    # first token, its refresh, and one failed fetch that the second call remembers
    assert [p for p, _ in emu.traffic].count("/cgi-bin/gettoken") == 3


async def test_http_faults_and_timeouts(emu: WeComEmulator, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, lambda: guide_message("wmA1"), idempotent=False)
