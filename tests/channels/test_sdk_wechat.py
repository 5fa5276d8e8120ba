"""The WeChat emulator and adapter checked by wechatpy, the community's Python SDK for WeChat
(WeChat publishes none). wechatpy fetches tokens from a fixed host, so its session's requests
to api.weixin.qq.com go to the emulator (see `redirect`); the requests are wechatpy's own.

Each API has its own field set: the mini program's `subscribe/send` (page as a mini program
path, miniprogram_state, lang) and the official account's `subscribe/bizsend` (page as a web
URL, miniprogram {appid, pagepath}). WeChat signs nothing here (a token in the query), so there
is no signing function to check the adapter's requests with; its body is compared with the one
wechatpy builds instead."""

from __future__ import annotations

from typing import Any

import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from channels.base import Outcome
from channels.wechat_subscribe import WeChatSettings, WeChatSubscribeChannel
from emulators.wechat import WeChatEmulator
from tests.channels.conftest import message
from tests.channels.redirect import redirect

APP_ID = "wx1234567890abcdef"
SECRET = "wx-app-secret"
TEMPLATE = "D64ZZ89iJVDy26nZa7xpdytlbhbaJr8wDV4W2QWDo9k"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
MINI_APPID = "wx0a1b2c3d4e5f6a7b"
DATA = {"thing1": {"value": "会员日8折"}, "time2": {"value": "2025-11-11 10:00"}}
PAGE = "pages/coupon/index?id=7"


@pytest.fixture(scope="module")
def emu() -> WeChatEmulator:
    return WeChatEmulator(app_id=APP_ID, app_secret=SECRET, templates={TEMPLATE: DATA.keys()})


def sdk(url: str, secret: str = SECRET) -> WeChatClient:
    client = WeChatClient(APP_ID, secret)
    redirect(client._http, "https://api.weixin.qq.com", url)
    return client


def test_official_account_bizsend_from_the_sdk_is_accepted(emu: WeChatEmulator, url: str) -> None:
    emu.grant(OPENID, TEMPLATE, times=2)
    client = sdk(url)
    to_mini = client.message.send_subscribe_message(
        OPENID, TEMPLATE, DATA, miniprogram={"appid": MINI_APPID, "pagepath": PAGE}
    )
    to_web = client.message.send_subscribe_message(
        OPENID, TEMPLATE, DATA, page="https://m.example.cn/c/7"
    )
    assert (to_mini["errcode"], to_web["errcode"]) == (0, 0) and to_mini["msgid"]
    assert ("/cgi-bin/message/subscribe/bizsend", 200) in emu.traffic
    assert len(emu.deliveries) == 2


def test_mini_program_send_from_the_sdk_is_accepted(emu: WeChatEmulator, url: str) -> None:
    emu.grant(OPENID, TEMPLATE)
    answer = sdk(url).wxa.send_subscribe_message(OPENID, TEMPLATE, DATA, page=PAGE)
    assert answer["errcode"] == 0 and answer["msgid"]
    [delivery] = emu.deliveries
    assert delivery.content["page"] == PAGE


@pytest.mark.parametrize(
    ("path", "extra", "errcode"),
    [
        ("message/subscribe/bizsend", {"miniprogram_state": "formal"}, 47001),
        ("message/subscribe/bizsend", {"lang": "zh_CN"}, 47001),
        ("message/subscribe/bizsend", {"page": PAGE}, 47003),
        ("message/subscribe/bizsend", {"miniprogram": {"appid": MINI_APPID}}, 47003),
        ("message/subscribe/send", {"miniprogram": {"appid": MINI_APPID, "pagepath": PAGE}}, 47001),
        ("message/subscribe/send", {"url": "https://m.example.cn"}, 47001),
        ("message/subscribe/send", {"page": "https://m.example.cn"}, 41030),
    ],
)
def test_each_api_refuses_fields_it_does_not_document(
    emu: WeChatEmulator, url: str, path: str, extra: dict[str, Any], errcode: int
) -> None:
    emu.grant(OPENID, TEMPLATE)
    body = {"touser": OPENID, "template_id": TEMPLATE, "data": DATA, **extra}
    with pytest.raises(WeChatClientException) as refused:
        sdk(url).post(path, data=body)
    assert refused.value.errcode == errcode
    assert emu.deliveries == []


def test_wrong_secret_is_wechats_invalid_appsecret(emu: WeChatEmulator, url: str) -> None:
    with pytest.raises(WeChatClientException) as refused:
        sdk(url, secret="wrong").message.send_subscribe_message(OPENID, TEMPLATE, DATA)
    assert refused.value.errcode == 40125
    assert emu.deliveries == []


async def test_adapter_sends_the_official_account_body_wechatpy_sends(
    emu: WeChatEmulator, url: str
) -> None:
    emu.grant(OPENID, TEMPLATE, times=2)
    sdk(url).message.send_subscribe_message(
        OPENID, TEMPLATE, DATA, miniprogram={"appid": MINI_APPID, "pagepath": PAGE}
    )
    settings = WeChatSettings.from_env(
        "wechat_oa",
        {
            "OMNIREACH_WECHAT_OA_APP_ID": APP_ID,
            "OMNIREACH_WECHAT_OA_APP_SECRET": SECRET,
            "OMNIREACH_WECHAT_OA_BASE_URL": url,
            "OMNIREACH_WECHAT_OA_MINIPROGRAM_APPID": MINI_APPID,
        },
    )
    params = {k: v["value"] for k, v in DATA.items()}
    async with WeChatSubscribeChannel(settings, name="wechat_oa") as channel:
        [sent] = await channel.send_batch(
            [message(OPENID, TEMPLATE, params={**params, "page": PAGE})]
        )
    assert sent.outcome is Outcome.SENT
    by_sdk, by_adapter = emu.deliveries
    assert by_adapter.content == by_sdk.content
