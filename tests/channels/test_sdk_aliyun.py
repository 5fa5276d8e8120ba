"""The Alibaba Cloud SMS emulator as the official SDK (`alibabacloud-dysmsapi20170525`) sees it,
and the adapter's signature as the SDK computes it: a client no one here wrote."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import httpx
import pytest
from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from darabonba.runtime import RuntimeOptions

from channels.sms_aliyun import AliyunSmsChannel, AliyunSmsSettings
from emulators.aliyun_sms import AliyunSmsEmulator
from tests.channels.conftest import message

KEY_ID = "LTAI5tSdkTest"
SECRET = "aliyun-sdk-secret"
SIGN = "欧姆尼零售"
PHONE = "13800138000"
GOOD_2 = "13900139000"


@pytest.fixture(scope="module")
def emu() -> AliyunSmsEmulator:
    return AliyunSmsEmulator(
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )


def sdk(url: str, *, key_id: str = KEY_ID, secret: str = SECRET, rpc: bool = False) -> Client:
    """The SDK pointed at the emulator: V3 (ACS3-HMAC-SHA256) by default, else the RPC signer."""
    config = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=url.removeprefix("http://"),
        protocol="http",
    )
    if rpc:
        config.signature_algorithm = "v2"
    return Client(config)


def send_request(out_id: str) -> models.SendSmsRequest:
    return models.SendSmsRequest(
        phone_numbers=PHONE,
        sign_name=SIGN,
        template_code="SMS_100001",
        template_param='{"name":"张三"}',
        out_id=out_id,
    )


@pytest.mark.parametrize("rpc", [False, True], ids=["acs3", "rpc"])
def test_sdk_send_is_accepted_with_a_biz_id(emu: AliyunSmsEmulator, url: str, rpc: bool) -> None:
    reply = sdk(url, rpc=rpc).send_sms(send_request("sdk-1"))
    assert reply.status_code == 200
    assert reply.body.code == "OK" and reply.body.biz_id
    [delivery] = emu.deliveries
    assert (delivery.key, delivery.address, delivery.content) == ("sdk-1", PHONE, {"name": "张三"})


@pytest.mark.parametrize("rpc", [False, True], ids=["acs3", "rpc"])
def test_sdk_with_a_wrong_secret_gets_signature_does_not_match(
    emu: AliyunSmsEmulator, url: str, rpc: bool
) -> None:
    with pytest.raises(ClientException) as raised:
        sdk(url, secret="not-the-secret", rpc=rpc).send_sms(send_request("sdk-2"))
    assert (raised.value.code, raised.value.status_code) == ("SignatureDoesNotMatch", 400)
    assert emu.deliveries == []


def test_sdk_with_an_unknown_key_gets_invalid_access_key_id(url: str) -> None:
    with pytest.raises(ClientException) as raised:
        sdk(url, key_id="LTAI5tNobody").send_sms(send_request("sdk-3"))
    assert (raised.value.code, raised.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_sdk_batch_send_is_accepted_with_a_biz_id(emu: AliyunSmsEmulator, url: str) -> None:
    batch = models.SendBatchSmsRequest(
        phone_number_json=f'["{PHONE}","{GOOD_2}"]',
        sign_name_json=f'["{SIGN}","{SIGN}"]',
        template_code="SMS_100001",
        template_param_json='[{"name":"张三"},{"name":"李四"}]',
    )
    reply = sdk(url).send_batch_sms(batch)
    assert reply.body.code == "OK" and reply.body.biz_id
    [delivery] = emu.deliveries
    assert delivery.address == f"{PHONE},{GOOD_2}"
    assert delivery.content["params"] == [{"name": "张三"}, {"name": "李四"}]


def api(action: str, method: str = "POST") -> Params:
    """An SMS action as the SDK's generic `call_api` takes it."""
    return Params(
        action=action,
        version="2017-05-25",
        protocol="HTTPS",
        pathname="/",
        method=method,
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )


@pytest.mark.parametrize("rpc", [False, True], ids=["acs3", "rpc"])
def test_an_unknown_action_is_not_found(emu: AliyunSmsEmulator, url: str, rpc: bool) -> None:
    request = OpenApiRequest(query={"PhoneNumbers": PHONE})
    with pytest.raises(ClientException) as raised:
        sdk(url, rpc=rpc).call_api(api("SendSmsTwice"), request, RuntimeOptions())
    assert (raised.value.code, raised.value.status_code) == ("InvalidAction.NotFound", 404)
    assert emu.deliveries == []


def test_sdk_queries_send_details_as_the_carrier_reported_them(
    emu: AliyunSmsEmulator, url: str
) -> None:
    client = sdk(url)
    biz_id = client.send_sms(send_request("sdk-4")).body.biz_id
    today = datetime.now(timezone(timedelta(hours=8))).strftime("%Y%m%d")
    query = models.QuerySendDetailsRequest(
        phone_number=PHONE, send_date=today, page_size=10, current_page=1, biz_id=biz_id
    )
    [waiting] = client.query_send_details(query).body.sms_send_detail_dtos.sms_send_detail_dto
    assert (waiting.send_status, waiting.out_id) == (1, "sdk-4")
    emu.settle(failed={PHONE: "MOBILE_NOT_ON_SERVICE"})
    answer = client.query_send_details(query).body
    [failed] = answer.sms_send_detail_dtos.sms_send_detail_dto
    assert (answer.total_count, failed.send_status, failed.err_code) == (
        1,
        2,
        "MOBILE_NOT_ON_SERVICE",
    )
    assert failed.receive_date


def test_adapter_request_verifies_with_the_sdk_signer() -> None:
    channel = AliyunSmsChannel(
        AliyunSmsSettings(access_key_id=KEY_ID, access_key_secret=SECRET, sign_name=SIGN)
    )
    params = channel.signed_params(message(PHONE, "SMS_100001", params={"name": "张三 & 李四*"}))
    signature = params.pop("Signature")
    assert signature == Utils.get_rpcsignature(params, "POST", SECRET)
    assert signature != Utils.get_rpcsignature(params, "POST", "another-secret")


def acs3_request(
    url: str,
    query: dict[str, str],
    *,
    nonce: str,
    body: bytes = b"",
    sent: dict[str, str] | None = None,
    unsigned: dict[str, str] | None = None,
) -> httpx.Response:
    """A V3 SendSms with `query` and an empty body signed by the SDK's own `get_authorization`;
    `body`, `sent` (the query) and `unsigned` headers are what actually goes out."""
    signed_body = b""
    payload_hash = hashlib.sha256(signed_body).hexdigest()
    headers = {
        "host": url.removeprefix("http://"),
        "x-acs-action": "SendSms",
        "x-acs-version": "2017-05-25",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": payload_hash,
    }
    request = SimpleNamespace(method="POST", pathname="/", query=query, headers=headers)
    authorization = Utils.get_authorization(
        request, "ACS3-HMAC-SHA256", payload_hash, KEY_ID, SECRET
    )
    return httpx.post(
        f"{url}/",
        params=query if sent is None else sent,
        content=body,
        headers={**headers, **(unsigned or {}), "Authorization": authorization},
    )


QUERY = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_100001"}


def test_v3_requests_are_held_to_the_signed_body_and_a_fresh_nonce(
    emu: AliyunSmsEmulator, url: str
) -> None:
    params = {**QUERY, "TemplateParam": '{"name":"张三"}'}
    assert acs3_request(url, params, nonce="n-1").json()["Code"] == "OK"
    replay = acs3_request(url, params, nonce="n-1")
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    swapped = acs3_request(url, params, nonce="n-2", body=b"x=1")
    assert (swapped.status_code, swapped.json()["Code"]) == (400, "InvalidContentSha256")
    altered = acs3_request(url, params, nonce="n-3", sent={**params, "PhoneNumbers": GOOD_2})
    assert (altered.status_code, altered.json()["Code"]) == (400, "SignatureDoesNotMatch")
    sneaked = acs3_request(url, params, nonce="n-4", unsigned={"x-acs-security-token": "t"})
    assert (sneaked.status_code, sneaked.json()["Code"]) == (400, "IncompleteSignature")
    assert [d.address for d in emu.deliveries] == [PHONE]


@pytest.mark.parametrize(
    ("rpc", "method", "in_body"),
    [
        (False, "GET", False),
        (False, "POST", True),
        (True, "GET", False),
        (True, "POST", True),
    ],
    ids=["acs3-get", "acs3-form-body", "rpc-get", "rpc-form-body"],
)
def test_sdk_sends_by_get_or_with_parameters_in_the_body(
    emu: AliyunSmsEmulator, url: str, rpc: bool, method: str, in_body: bool
) -> None:
    """The gateway takes an RPC action by GET or POST, its parameters in the query string or
    the form body, under either signature; the SDK's generic call makes each layout."""
    send = {**QUERY, "TemplateParam": '{"name":"张三"}', "OutId": f"layout-{method}"}
    request = OpenApiRequest(body=send) if in_body else OpenApiRequest(query=send)
    reply = sdk(url, rpc=rpc).call_api(api("SendSms", method), request, RuntimeOptions())
    assert reply["body"]["Code"] == "OK" and reply["body"]["BizId"]
    [delivery] = emu.deliveries
    assert (delivery.key, delivery.address) == (f"layout-{method}", PHONE)
