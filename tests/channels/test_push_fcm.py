from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from channels.base import OutboundMessage, Outcome
from channels.config import ChannelConfigError
from channels.push_fcm import FcmChannel, FcmSettings
from emulators.fcm import FcmEmulator
from tests.channels.conftest import FAST_TIMEOUT, assert_transport_faults, message

PROJECT = "omnireach-test"
EMAIL = "push-sender@omnireach-test.iam.gserviceaccount.com"
ACCOUNT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DEVICE = "dGVzdC1kZXZpY2UtdG9rZW4tMDAx:APA91bHun4MxP5egoKMwt2KZFBaFUH"


@pytest.fixture(scope="module")
def emu() -> FcmEmulator:
    return FcmEmulator(project_id=PROJECT, client_email=EMAIL, public_key=ACCOUNT_KEY.public_key())


def service_account(key: rsa.RSAPrivateKey = ACCOUNT_KEY) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "client_email": EMAIL,
        "private_key": pem,
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def channel(url: str, tmp_path: Path, key: rsa.RSAPrivateKey = ACCOUNT_KEY) -> FcmChannel:
    account_file = tmp_path / "service-account.json"
    account_file.write_text(json.dumps(service_account(key)))
    settings = FcmSettings.from_env(
        {
            "OMNIREACH_FCM_SERVICE_ACCOUNT_FILE": str(account_file),
            "OMNIREACH_FCM_TOKEN_URI": f"{url}/token",
            "OMNIREACH_FCM_BASE_URL": url,
            "OMNIREACH_FCM_TIMEOUT": str(FAST_TIMEOUT),
        }
    )
    return FcmChannel(settings)


def push(device: str = DEVICE) -> OutboundMessage:
    return message(device, "push_coupon", subject="会员日", params={"deeplink": "app://c/7"})


async def test_sends_with_a_service_account_token_and_the_key_as_data(
    emu: FcmEmulator, url: str, tmp_path: Path
) -> None:
    m = push()
    async with channel(url, tmp_path) as ch:
        [first] = await ch.send_batch([m])
        [again] = await ch.send_batch([m])
    assert first.outcome is Outcome.SENT
    assert str(first.provider_message_id).startswith(f"projects/{PROJECT}/messages/")
    assert again.provider_message_id == first.provider_message_id
    [delivery] = emu.deliveries
    assert delivery.content["data"] == {
        "deeplink": "app://c/7",
        "idempotency_key": m.idempotency_key,
    }
    assert delivery.content["notification"] == {"title": "会员日", "body": m.body}
    assert [p for p, _ in emu.traffic].count("/token") == 1


async def test_rejected_token_is_refreshed_once(emu: FcmEmulator, url: str, tmp_path: Path) -> None:
    async with channel(url, tmp_path) as ch:
        await ch.send_batch([push()])
        emu.expire_tokens()
        [after] = await ch.send_batch([push()])
    assert after.outcome is Outcome.SENT
    sends = [status for path, status in emu.traffic if path.endswith("messages:send")]
    assert sends == [200, 401, 200]


async def test_assertion_signed_by_another_key_gets_no_token(
    emu: FcmEmulator, url: str, tmp_path: Path
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with channel(url, tmp_path, other) as ch:
        [answer] = await ch.send_batch([push()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "token_invalid_grant")
    assert emu.deliveries == []


async def test_unregistered_token_is_opted_out(emu: FcmEmulator, url: str, tmp_path: Path) -> None:
    emu.faults.refuse("uninstalled-device")
    async with channel(url, tmp_path) as ch:
        results = await ch.send_batch([push("uninstalled-device"), push("")])
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.OPTED_OUT, "UNREGISTERED"),
        (Outcome.PERMANENT, "INVALID_ARGUMENT"),
    ]


async def test_http_faults_and_timeouts(emu: FcmEmulator, url: str, tmp_path: Path) -> None:
    async with channel(url, tmp_path) as ch:
        await assert_transport_faults(emu, ch, push, idempotent=True)


def test_malformed_service_account_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"project_id": "x"}')
    with pytest.raises(ChannelConfigError, match="service account"):
        FcmSettings.from_env({"OMNIREACH_FCM_SERVICE_ACCOUNT_FILE": str(bad)})
    with pytest.raises(ChannelConfigError, match="OMNIREACH_FCM_SERVICE_ACCOUNT"):
        FcmSettings.from_env({})
