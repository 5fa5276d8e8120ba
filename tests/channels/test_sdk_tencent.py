"""The Tencent Cloud SMS emulator as the official SDK (`tencentcloud-sdk-python-sms`) sees it,
by POST and by GET, signed TC3 (with the body or UNSIGNED-PAYLOAD) or v1 (HmacSHA1, HmacSHA256),
and the adapter's signature as the SDK's signer computes it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.sms.v20210111 import models, sms_client

from channels.sms_tencent import TencentSmsChannel, TencentSmsSettings
from emulators.tencent_sms import TencentSmsEmulator
from tests.channels.conftest import message

SECRET_ID = "AKIDsdkTest"
SECRET_KEY = "tencent-sdk-secret"
APP_ID = "1400006666"
SIGN = "欧姆尼零售"
PHONE = "+8613800138000"
TC3 = "TC3-HMAC-SHA256"
UNSIGNED = "/unsigned-payload"
# Every way API 3.0 takes a call: TC3 by POST or GET, TC3 over UNSIGNED-PAYLOAD, v1 by GET or
# form POST with either HMAC.
LAYOUTS = [
    ("POST", TC3),
    ("GET", TC3),
    ("POST", TC3 + UNSIGNED),
    ("GET", TC3 + UNSIGNED),
    ("GET", "HmacSHA1"),
    ("POST", "HmacSHA1"),
    ("GET", "HmacSHA256"),
    ("POST", "HmacSHA256"),
]
LAYOUT_IDS = [f"{method}-{sign}" for method, sign in LAYOUTS]


@pytest.fixture(scope="module")
def emu() -> TencentSmsEmulator:
    return TencentSmsEmulator(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        sdk_app_id=APP_ID,
        sign_names=[SIGN],
        templates={"1110": 1},
    )


def profile(url: str, method: str, sign: str = TC3) -> ClientProfile:
    http = HttpProfile(endpoint=url.removeprefix("http://"), reqMethod=method)
    http.scheme = "http"
    made = ClientProfile(signMethod=sign.removesuffix(UNSIGNED), httpProfile=http)
    made.unsignedPayload = sign.endswith(UNSIGNED)
    return made


def sdk(
    url: str,
    *,
    method: str = "POST",
    sign: str = TC3,
    secret_id: str = SECRET_ID,
    key: str = SECRET_KEY,
) -> sms_client.SmsClient:
    cred = credential.Credential(secret_id, key)
    return sms_client.SmsClient(cred, "ap-guangzhou", profile(url, method, sign))


def send_request(context: str) -> models.SendSmsRequest:
    request = models.SendSmsRequest()
    request.PhoneNumberSet = [PHONE]
    request.SmsSdkAppId = APP_ID
    request.SignName = SIGN
    request.TemplateId = "1110"
    request.TemplateParamSet = ["8折"]
    request.SessionContext = context
    return request


@pytest.mark.parametrize(("method", "sign"), LAYOUTS, ids=LAYOUT_IDS)
def test_sdk_send_is_accepted_with_a_serial_number(
    emu: TencentSmsEmulator, url: str, method: str, sign: str
) -> None:
    reply = sdk(url, method=method, sign=sign).SendSms(send_request("sdk-1"))
    [status] = reply.SendStatusSet
    assert (status.Code, status.PhoneNumber, status.SessionContext) == ("Ok", PHONE, "sdk-1")
    assert status.SerialNo
    [delivery] = emu.deliveries
    assert delivery.content == {"params": ["8折"], "session_context": "sdk-1"}


@pytest.mark.parametrize(("method", "sign"), LAYOUTS, ids=LAYOUT_IDS)
def test_sdk_with_a_wrong_key_gets_signature_failure(
    emu: TencentSmsEmulator, url: str, method: str, sign: str
) -> None:
    with pytest.raises(TencentCloudSDKException) as raised:
        sdk(url, method=method, sign=sign, key="not-the-key").SendSms(send_request("sdk-2"))
    assert raised.value.get_code() == "AuthFailure.SignatureFailure"
    assert emu.deliveries == []


@pytest.mark.parametrize("sign", [TC3, "HmacSHA256"])
def test_sdk_with_an_unknown_secret_id_is_refused(url: str, sign: str) -> None:
    with pytest.raises(TencentCloudSDKException) as raised:
        sdk(url, sign=sign, secret_id="AKIDnobody").SendSms(send_request("sdk-3"))
    assert raised.value.get_code() == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize("sign", [TC3, "HmacSHA256"])
def test_an_unknown_action_is_refused_as_tencent_does(url: str, sign: str) -> None:
    client = CommonClient(
        "sms",
        "2021-01-11",
        credential.Credential(SECRET_ID, SECRET_KEY),
        "ap-guangzhou",
        profile(url, "POST", sign),
    )
    with pytest.raises(TencentCloudSDKException) as raised:
        client.call_json("SendSmsTwice", {})
    assert raised.value.get_code() == "InvalidAction"


@pytest.mark.parametrize(("method", "sign"), [("POST", TC3), ("GET", TC3), ("GET", "HmacSHA1")])
def test_sdk_pulls_each_settled_status_once(
    emu: TencentSmsEmulator, url: str, method: str, sign: str
) -> None:
    client = sdk(url, method=method, sign=sign)
    serial = client.SendSms(send_request("sdk-4")).SendStatusSet[0].SerialNo
    pull = models.PullSmsSendStatusRequest()
    pull.Limit = 10
    pull.SmsSdkAppId = APP_ID
    assert client.PullSmsSendStatus(pull).PullSmsSendStatusSet == []
    emu.status_callbacks(failed={PHONE: "MK:0001"})
    [status] = client.PullSmsSendStatus(pull).PullSmsSendStatusSet
    assert (status.SerialNo, status.ReportStatus, status.Description) == (serial, "FAIL", "MK:0001")
    assert (status.SessionContext, status.PhoneNumber) == ("sdk-4", PHONE)
    assert client.PullSmsSendStatus(pull).PullSmsSendStatusSet == []


def test_adapter_request_verifies_with_the_sdk_signer() -> None:
    channel = TencentSmsChannel(
        TencentSmsSettings(
            secret_id=SECRET_ID, secret_key=SECRET_KEY, sdk_app_id=APP_ID, sign_name=SIGN
        )
    )
    payload, headers = channel.request([message(PHONE, "1110", params={"1": "8折"})])
    assert json.loads(payload)["PhoneNumberSet"] == [PHONE]
    timestamp = int(headers["X-TC-Timestamp"])
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    auth = headers["Authorization"]
    names = auth.split("SignedHeaders=")[1].split(",")[0]
    lowered = {k.lower(): v.strip().lower() for k, v in headers.items()}
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{name}:{lowered[name]}\n" for name in names.split(";")),
            names,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/sms/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    assert auth.startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, ")
    assert auth.endswith(f"Signature={Sign.sign_tc3(SECRET_KEY, date, 'sms', string_to_sign)}")
