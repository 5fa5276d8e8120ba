"""The WeCom emulator and adapter checked by wechatpy's WeCom client (`wechatpy.enterprise`),
whose requests to qyapi.weixin.qq.com go to the emulator (see `redirect`). WeCom signs nothing
here (a token in the query); the adapter's task body is compared with wechatpy's instead."""

from __future__ import annotations

import pytest
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from channels.base import Outcome
from channels.wecom import WeComChannel, WeComSettings
from emulators.wecom import WeComEmulator
from tests.channels.conftest import message
from tests.channels.redirect import redirect

CORP_ID = "ww0123456789"
SECRET = "wecom-secret"
GUIDE = "zhangsan"
FRIENDS = ["wmA1", "wmA2"]
TEXT = "张女士您好，周末会员日全场8折～"


@pytest.fixture(scope="module")
def emu() -> WeComEmulator:
    return WeComEmulator(corp_id=CORP_ID, secret=SECRET, guides={GUIDE: FRIENDS})


def sdk(url: str, secret: str = SECRET) -> WeChatClient:
    client = WeChatClient(CORP_ID, secret)
    redirect(client._http, "https://qyapi.weixin.qq.com", url)
    return client


def task(customers: list[str]) -> dict[str, object]:
    return {
        "chat_type": "single",
        "external_userid": customers,
        "sender": GUIDE,
        "text": {"content": TEXT},
    }


def test_sdk_task_is_created_and_strangers_come_back_in_fail_list(
    emu: WeComEmulator, url: str
) -> None:
    answer = sdk(url).external_contact.add_msg_template(task([*FRIENDS, "wmStranger"]))
    assert answer["errcode"] == 0 and answer["msgid"]
    assert answer["fail_list"] == ["wmStranger"]
    assert sorted(d.address for d in emu.deliveries) == FRIENDS


def test_wrong_secret_is_wecoms_invalid_credential(emu: WeComEmulator, url: str) -> None:
    with pytest.raises(WeChatClientException) as refused:
        sdk(url, secret="wrong").external_contact.add_msg_template(task(FRIENDS))
    assert refused.value.errcode == 40001
    assert emu.deliveries == []


async def test_adapter_creates_the_task_wechatpy_creates(emu: WeComEmulator, url: str) -> None:
    sdk(url).external_contact.add_msg_template(task(FRIENDS))
    settings = WeComSettings(corp_id=CORP_ID, secret=SECRET, default_sender=GUIDE, base_url=url)
    async with WeComChannel(settings) as channel:
        results = await channel.send_batch([message(c, "wecom_text", body=TEXT) for c in FRIENDS])
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    by_sdk, by_adapter = emu.deliveries[:2], emu.deliveries[2:]
    assert [d.address for d in by_adapter] == [d.address for d in by_sdk]
    assert [d.content["content"] for d in by_adapter] == [d.content["content"] for d in by_sdk]
