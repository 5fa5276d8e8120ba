from __future__ import annotations

import logging

import pytest

from channels.base import OutboundMessage, Outcome
from channels.wechat_subscribe import (
    InMemoryQuotaLedger,
    QuotaHook,
    WeChatSettings,
    WeChatSubscribeChannel,
)
from emulators.wechat import WeChatEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

SECRET = "wx-app-secret"
TEMPLATE = "D64ZZ89iJVDy26nZa7xpdytlbhbaJr8wDV4W2QWDo9k"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
MINI_APPID = "wx0a1b2c3d4e5f6a7b"


@pytest.fixture(scope="module")
def emu() -> WeChatEmulator:
    return WeChatEmulator(
        app_id="wx1234567890abcdef", app_secret=SECRET, templates={TEMPLATE: ["thing1", "time2"]}
    )


def channel(
    url: str,
    *,
    secret: str = SECRET,
    name: str = "wechat_mini",
    on_quota: QuotaHook | None = None,
    **extra: str,
) -> WeChatSubscribeChannel:
    prefix = f"OMNIREACH_{name.upper()}_"
    settings = WeChatSettings.from_env(
        name,
        {
            f"{prefix}APP_ID": "wx1234567890abcdef",
            f"{prefix}APP_SECRET": secret,
            f"{prefix}BASE_URL": url,
            f"{prefix}TIMEOUT": str(FAST_TIMEOUT),
            **{prefix + k.upper(): v for k, v in extra.items()},
        },
    )
    return WeChatSubscribeChannel(settings, name=name, on_quota=on_quota)


def notice(openid: str = OPENID, **params: str) -> OutboundMessage:
    return message(
        openid, TEMPLATE, params={"thing1": "会员日8折", "time2": "2025-11-11 10:00", **params}
    )


async def test_send_uses_one_subscription_and_reports_it(emu: WeChatEmulator, url: str) -> None:
    emu.grant(OPENID, TEMPLATE)
    ledger = InMemoryQuotaLedger()
    async with channel(url, on_quota=ledger) as ch:
        [sent] = await ch.send_batch([notice(page="pages/coupon/index?id=7")])
        [refused] = await ch.send_batch([notice()])
    assert sent.outcome is Outcome.SENT and sent.provider_message_id
    assert (refused.outcome, refused.error_code) == (Outcome.OPTED_OUT, "43101")
    assert ledger.consumed[(OPENID, TEMPLATE)] == 1
    assert (OPENID, TEMPLATE) in ledger.exhausted
    [delivery] = emu.deliveries
    assert delivery.content["page"] == "pages/coupon/index?id=7"
    assert delivery.content["data"] == {
        "thing1": {"value": "会员日8折"},
        "time2": {"value": "2025-11-11 10:00"},
    }


async def test_official_account_uses_bizsend(emu: WeChatEmulator, url: str) -> None:
    emu.grant(OPENID, TEMPLATE)
    async with channel(url, name="wechat_oa") as ch:
        [sent] = await ch.send_batch([notice()])
    assert sent.outcome is Outcome.SENT
    assert ("/cgi-bin/message/subscribe/bizsend", 200) in emu.traffic


async def test_each_api_gets_only_the_fields_it_documents(emu: WeChatEmulator, url: str) -> None:
    emu.grant(OPENID, TEMPLATE, times=4)
    async with channel(url) as mini:
        [sent] = await mini.send_batch([notice(page="pages/coupon/index?id=7")])
    async with channel(url, name="wechat_oa", miniprogram_appid=MINI_APPID) as oa:
        results = await oa.send_batch(
            [
                notice(page="pages/coupon/index?id=7"),
                notice(page="https://m.example.cn/c/7"),
                notice(),
            ]
        )
    assert [r.outcome for r in [sent, *results]] == [Outcome.SENT] * 4
    data = {"thing1": {"value": "会员日8折"}, "time2": {"value": "2025-11-11 10:00"}}
    common = {"touser": OPENID, "template_id": TEMPLATE, "data": data}
    assert [d.content for d in emu.deliveries] == [
        {
            **common,
            "page": "pages/coupon/index?id=7",
            "miniprogram_state": "formal",
            "lang": "zh_CN",
        },
        {**common, "miniprogram": {"appid": MINI_APPID, "pagepath": "pages/coupon/index?id=7"}},
        {**common, "page": "https://m.example.cn/c/7"},
        common,
    ]


async def test_official_account_link_to_a_mini_program_needs_its_appid(
    emu: WeChatEmulator, url: str
) -> None:
    emu.grant(OPENID, TEMPLATE)
    async with channel(url, name="wechat_oa") as oa:
        [answer] = await oa.send_batch([notice(page="pages/coupon/index?id=7")])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "missing_miniprogram_appid")
    assert "OMNIREACH_WECHAT_OA_MINIPROGRAM_APPID" in (answer.detail or "")
    assert emu.traffic == []


async def test_token_is_cached_and_refreshed_once_when_expired(
    emu: WeChatEmulator, url: str
) -> None:
    emu.grant(OPENID, TEMPLATE, times=3)
    async with channel(url) as ch:
        await ch.send_batch([notice(), notice()])
        emu.expire_tokens()
        [after] = await ch.send_batch([notice()])
    assert after.outcome is Outcome.SENT
    token_calls = [status for path, status in emu.traffic if path == "/cgi-bin/token"]
    assert token_calls == [200, 200]
    assert ("/cgi-bin/message/subscribe/send", 200) in emu.traffic
    assert len(emu.deliveries) == 3


async def test_wrong_app_secret_fails_every_message(emu: WeChatEmulator, url: str) -> None:
    emu.grant(OPENID, TEMPLATE)
    async with channel(url, secret="wrong") as ch:
        results = await ch.send_batch([notice(), notice()])
    assert {(r.outcome, r.error_code) for r in results} == {(Outcome.PERMANENT, "token_40125")}
    assert [p for p, _ in emu.traffic] == ["/cgi-bin/token"]  # the failure is remembered
    assert emu.deliveries == []


async def test_secrets_in_request_urls_are_masked_in_logs(
    emu: WeChatEmulator, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    emu.grant(OPENID, TEMPLATE)
    with caplog.at_level(logging.INFO, logger="httpx"):
        async with channel(url) as ch:
            await ch.send_batch([notice()])
    logged = caplog.text
    assert "secret=***" in logged and "access_token=***" in logged
    assert SECRET not in logged and not any(token in logged for token in emu.tokens)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: notice("bad openid!"), "40003"),
        (lambda: message(OPENID, "unknown-template", params={"thing1": "x"}), "40037"),
        (lambda: message(OPENID, TEMPLATE, params={"thing1": "only one key"}), "47003"),
    ],
)
async def test_invalid_requests_are_permanent(
    emu: WeChatEmulator, url: str, build, code: str
) -> None:
    emu.grant(OPENID, TEMPLATE)
    async with channel(url) as ch:
        [answer] = await ch.send_batch([build()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, code)


async def test_http_faults_and_timeouts(emu: WeChatEmulator, url: str) -> None:
    def granted() -> OutboundMessage:
        emu.grant(OPENID, TEMPLATE)
        return notice()

    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, granted, idempotent=False)
