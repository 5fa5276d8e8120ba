from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from channels.alipay import AlipayChannel, AlipaySettings, classify, sign_content
from channels.base import OutboundMessage, Outcome
from channels.config import ChannelConfigError, load_rsa_private_key
from emulators.alipay import AlipayEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

APP_ID = "2021000123456789"
TEMPLATE = "MDI4YzIxMDE2M2I5YTQzYjUxNWE4MjA4NmU1MTIyYmM="
USER = "2088102122458832"


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


APP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def emu() -> AlipayEmulator:
    return AlipayEmulator(
        app_id=APP_ID,
        app_public_key=APP_KEY.public_key(),
        templates={TEMPLATE: ["keyword1", "keyword2"]},
    )


def channel(url: str, key: rsa.RSAPrivateKey = APP_KEY) -> AlipayChannel:
    return AlipayChannel(
        AlipaySettings(
            app_id=APP_ID, private_key=pem(key), gateway=f"{url}/gateway.do", timeout=FAST_TIMEOUT
        )
    )


def notice(user: str = USER, **params: str) -> OutboundMessage:
    return message(
        user,
        TEMPLATE,
        params={
            "form_id": "2017010100000000580012345678",
            "keyword1": "12:00",
            "keyword2": "会员日",
            **params,
        },
    )


def test_sign_content_is_sorted_raw_and_skips_sign_and_empty_values() -> None:
    params = {
        "method": "m",
        "app_id": "1",
        "sign": "x",
        "biz_content": '{"a":"b c"}',
        "app_auth_token": "",
    }
    assert sign_content(params) == b'app_id=1&biz_content={"a":"b c"}&method=m'


def test_private_key_may_be_the_bare_base64_the_console_shows() -> None:
    der = APP_KEY.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    loaded = load_rsa_private_key(base64.b64encode(der).decode(), "Alipay")
    assert loaded.private_numbers() == APP_KEY.private_numbers()
    with pytest.raises(ChannelConfigError, match="Alipay private key"):
        load_rsa_private_key("not a key", "Alipay")


async def test_sends_with_user_id_or_open_id(emu: AlipayEmulator, url: str) -> None:
    async with channel(url) as ch:
        results = await ch.send_batch(
            [
                notice(page="pages/order/detail?id=9"),
                notice("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWY"),
            ]
        )
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    by_user = {d.address: d for d in emu.deliveries}
    assert by_user[USER].content["page"] == "pages/order/detail?id=9"
    assert by_user[USER].content["data"] == {
        "keyword1": {"value": "12:00"},
        "keyword2": {"value": "会员日"},
    }
    assert by_user["074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWY"].content["page"] == (
        "pages/index/index"
    )


async def test_wrong_private_key_fails_the_signature_check(emu: AlipayEmulator, url: str) -> None:
    async with channel(url, OTHER_KEY) as ch:
        [answer] = await ch.send_batch([notice()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "isv.invalid-signature")
    assert emu.deliveries == []


async def test_business_failures_are_permanent(emu: AlipayEmulator, url: str) -> None:
    emu.faults.refuse(USER)
    async with channel(url) as ch:
        results = await ch.send_batch(
            [
                notice(),
                message(USER, "unknown", params={"form_id": "1"}),
                message(USER, TEMPLATE, params={"keyword1": "no form id"}),
            ]
        )
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.PERMANENT, "USER_REFUSED"),
        (Outcome.PERMANENT, "USER_TEMPLATE_ILLEGAL"),
        (Outcome.PERMANENT, "missing_form_id"),
    ]


async def test_http_faults_and_timeouts(emu: AlipayEmulator, url: str) -> None:
    async with channel(url) as ch:
        await assert_transport_faults(emu, ch, notice, idempotent=False)


@pytest.mark.parametrize(
    ("code", "sub_code", "outcome"),
    [
        ("20000", "isp.unknow-error", Outcome.RETRYABLE),
        ("40005", "isv.app-call-limited", Outcome.RATE_LIMITED),
        ("40002", "isv.invalid-signature", Outcome.PERMANENT),
        ("40004", "USER_TEMPLATE_ILLEGAL", Outcome.PERMANENT),
    ],
)
def test_gateway_codes_map_to_outcomes(code: str, sub_code: str, outcome: Outcome) -> None:
    assert classify(code, sub_code) is outcome
