from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from channels.alipay import (
    AlipayChannel,
    AlipaySettings,
    UnverifiedReply,
    classify,
    json_members,
    sign_content,
    verified_answer,
)
from channels.base import OutboundMessage, Outcome
from channels.config import ChannelConfigError, load_rsa_private_key
from emulators.alipay import AlipayEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

APP_ID = "2021000123456789"
TEMPLATE = "MDI4YzIxMDE2M2I5YTQzYjUxNWE4MjA4NmU1MTIyYmM="
USER = "2088102122458832"
RESPONSE = "alipay_open_app_mini_templatemessage_send_response"


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_b64(key: rsa.RSAPrivateKey) -> str:
    """The public key as Alipay's console shows it: bare base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


APP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
GATEWAY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def emu() -> AlipayEmulator:
    return AlipayEmulator(
        app_id=APP_ID,
        app_public_key=APP_KEY.public_key(),
        templates={TEMPLATE: ["keyword1", "keyword2"]},
        gateway_key=GATEWAY_KEY,
    )


def channel(
    url: str, key: rsa.RSAPrivateKey = APP_KEY, gateway_key: rsa.RSAPrivateKey = GATEWAY_KEY
) -> AlipayChannel:
    return AlipayChannel(
        AlipaySettings(
            app_id=APP_ID,
            private_key=pem(key),
            alipay_public_key=public_b64(gateway_key),
            gateway=f"{url}/gateway.do",
            timeout=FAST_TIMEOUT,
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


async def test_a_reply_not_signed_by_the_gateway_is_a_permanent_failure(
    emu: AlipayEmulator, url: str
) -> None:
    async with channel(url, gateway_key=OTHER_KEY) as ch:
        [answer] = await ch.send_batch([notice()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "invalid_response_sign")
    assert answer.detail == "the reply's sign does not verify with the Alipay public key"
    assert len(emu.deliveries) == 1  # the gateway took it; the adapter only cannot believe it


def _signed(text: str, key: rsa.RSAPrivateKey = GATEWAY_KEY) -> str:
    signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def test_reply_signature_covers_the_exact_response_text() -> None:
    key = GATEWAY_KEY.public_key()
    response = '{"code":"10000","msg":"Success"}'
    ok = f'{{"{RESPONSE}" : {response} ,\n "sign":"{_signed(response)}"}}'
    assert verified_answer(ok, key) == {"code": "10000", "msg": "Success"}
    respaced = '{"code": "10000", "msg": "Success"}'  # same JSON, other text: not what was signed
    forged = {
        "unsigned": (f'{{"{RESPONSE}":{response}}}', "the reply is not signed"),
        "other text": (
            f'{{"{RESPONSE}":{respaced},"sign":"{_signed(response)}"}}',
            "does not verify",
        ),
        "other key": (
            f'{{"{RESPONSE}":{response},"sign":"{_signed(response, OTHER_KEY)}"}}',
            "does not verify",
        ),
        "not base64": (f'{{"{RESPONSE}":{response},"sign":"%%%"}}', "does not verify"),
        "no response": (f'{{"sign":"{_signed(response)}"}}', "has no"),
        "not json": ("<html>gateway</html>", "not a JSON object"),
    }
    for text, reason in forged.values():
        with pytest.raises(UnverifiedReply, match=reason):
            verified_answer(text, key)


def test_json_members_keep_each_value_as_sent() -> None:
    assert json_members(' { "a" : {"x": [1, "}"]} , "b":"c" } ') == {
        "a": '{"x": [1, "}"]}',
        "b": '"c"',
    }
    assert json_members("{}") == {}
    for bad in ('{"a" 1}', '{"a":1 "b":2}', "[1]", '{"a":1'):
        with pytest.raises(ValueError):
            json_members(bad)


def test_gateway_public_key_is_required_and_must_be_readable() -> None:
    env = {"OMNIREACH_ALIPAY_APP_ID": APP_ID, "OMNIREACH_ALIPAY_PRIVATE_KEY": pem(APP_KEY)}
    with pytest.raises(ChannelConfigError, match="OMNIREACH_ALIPAY_PUBLIC_KEY"):
        AlipaySettings.from_env(env)
    settings = AlipaySettings.from_env({**env, "OMNIREACH_ALIPAY_PUBLIC_KEY": "not a key"})
    with pytest.raises(ChannelConfigError, match="OMNIREACH_ALIPAY_PUBLIC_KEY is not a readable"):
        AlipayChannel(settings)


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


async def test_a_gateway_error_about_the_app_is_verified_and_permanent(
    emu: AlipayEmulator, url: str
) -> None:
    """The gateway answers an app_id it does not know as `error_response`, signed like any reply."""
    unknown = AlipayChannel(
        AlipaySettings(
            app_id="2021000999999999",
            private_key=pem(APP_KEY),
            alipay_public_key=public_b64(GATEWAY_KEY),
            gateway=f"{url}/gateway.do",
            timeout=FAST_TIMEOUT,
        )
    )
    async with unknown as ch:
        [answer] = await ch.send_batch([notice()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "isv.invalid-app-id")
    assert emu.deliveries == []


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
