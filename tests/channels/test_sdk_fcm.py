"""The FCM emulator and adapter checked by Google's own code: firebase-admin sends through the
emulator (its service account token from google-auth, whose assertion names Google's token URL
as audience and asks for firebase-admin's scopes), and google-auth verifies the adapter's JWT.
firebase-admin has no setting for the FCM host, so its class-level `FCM_URL` is pointed at the
emulator; the service account's `token_uri` points google-auth there as any JSON key file can.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import firebase_admin
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import credentials, messaging
from google.auth import crypt, jwt
from google.auth.exceptions import RefreshError
from google.auth.transport import requests as google_requests
from google.oauth2 import service_account as service_account_credentials

from channels.base import Outcome
from channels.push_fcm import JWT_GRANT, FcmChannel, FcmSettings
from emulators.fcm import FcmEmulator
from tests.channels.conftest import message

PROJECT = "omnireach-test"
EMAIL = "push-sender@omnireach-test.iam.gserviceaccount.com"
ACCOUNT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DEVICE = "dGVzdC1kZXZpY2UtdG9rZW4tMDAx:APA91bHun4MxP5egoKMwt2KZFBaFUH"
_apps = itertools.count(1)


@pytest.fixture(scope="module")
def emu() -> FcmEmulator:
    return FcmEmulator(project_id=PROJECT, client_email=EMAIL, public_key=ACCOUNT_KEY.public_key())


def service_account(url: str, key: rsa.RSAPrivateKey = ACCOUNT_KEY) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": f"{url}/token",
    }


@pytest.fixture
def firebase(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[firebase_admin.App]]:
    """Apps made by `app()` in a test, deleted after it."""
    monkeypatch.setattr(
        messaging._MessagingService, "FCM_URL", f"{url}/v1/projects/{{0}}/messages:send"
    )
    apps: list[firebase_admin.App] = []
    yield apps
    for made in apps:
        firebase_admin.delete_app(made)


def app(
    url: str, apps: list[firebase_admin.App], key: rsa.RSAPrivateKey = ACCOUNT_KEY
) -> firebase_admin.App:
    made = firebase_admin.initialize_app(
        credentials.Certificate(service_account(url, key)), name=f"fcm-{next(_apps)}"
    )
    apps.append(made)
    return made


def notification(device: str = DEVICE) -> messaging.Message:
    return messaging.Message(
        fid=device,
        notification=messaging.Notification(title="会员日", body="全场8折"),
        data={"deeplink": "app://c/7", "idempotency_key": "cmp-1:1"},
    )


def test_sdk_send_is_accepted_with_googles_audience_and_scopes(
    emu: FcmEmulator, url: str, firebase: list[firebase_admin.App]
) -> None:
    name = messaging.send(notification(), app=app(url, firebase))
    assert name.startswith(f"projects/{PROJECT}/messages/")
    [delivery] = emu.deliveries
    assert delivery.address == DEVICE
    assert delivery.content["notification"] == {"title": "会员日", "body": "全场8折"}


def test_dry_run_is_validated_and_records_nothing(
    emu: FcmEmulator, url: str, firebase: list[firebase_admin.App]
) -> None:
    sdk = app(url, firebase)
    name = messaging.send(notification(), dry_run=True, app=sdk)
    assert name == f"projects/{PROJECT}/messages/fake_message_id"
    emu.faults.refuse(DEVICE)
    with pytest.raises(messaging.UnregisteredError):
        messaging.send(notification(), dry_run=True, app=sdk)
    assert emu.deliveries == []


def test_wrong_key_is_googles_invalid_grant(
    emu: FcmEmulator, url: str, firebase: list[firebase_admin.App]
) -> None:
    with pytest.raises(RefreshError, match=r"invalid_grant: Invalid JWT Signature\."):
        messaging.send(notification(), app=app(url, firebase, OTHER_KEY))
    assert emu.deliveries == []


async def test_adapter_assertion_verifies_with_google_auth(
    emu: FcmEmulator, url: str, tmp_path: Path
) -> None:
    captured: list[httpx.Request] = []

    async def capture(request: httpx.Request) -> None:
        captured.append(request)

    account_file = tmp_path / "service-account.json"
    account_file.write_text(json.dumps(service_account(url)))
    settings = FcmSettings.from_env({"OMNIREACH_FCM_SERVICE_ACCOUNT_FILE": str(account_file)})
    settings = FcmSettings(**{**vars(settings), "base_url": url})
    client = httpx.AsyncClient(event_hooks={"request": [capture]})
    async with FcmChannel(settings, client=client) as channel:
        [sent] = await channel.send_batch([message(DEVICE, "push", subject="会员日")])
    await client.aclose()
    assert sent.outcome is Outcome.SENT
    assertion = dict(parse_qsl(captured[0].content.decode()))["assertion"]
    public_pem = ACCOUNT_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(assertion, certs=public_pem, audience=f"{url}/token")
    assert claims["iss"] == EMAIL
    other_pem = OTHER_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="Could not verify token signature"):
        jwt.decode(assertion, certs=other_pem, audience=f"{url}/token")


def assertion(url: str, **changed: Any) -> str:
    """A service account assertion signed by google-auth's signer, with `changed` claims."""
    now = int(time.time())
    claims = {
        "iss": EMAIL,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "aud": "https://oauth2.googleapis.com/token",
        "iat": now,
        "exp": now + 3600,
        **changed,
    }
    signer = crypt.RSASigner.from_service_account_info(service_account(url))
    return jwt.encode(signer, claims).decode()


@pytest.mark.parametrize(
    ("changed", "description"),
    [
        ({"aud": "https://oauth2.example.com/token"}, "Invalid JWT: Failed audience check."),
        ({"exp": int(time.time()) + 7200}, "Invalid JWT: Token must be a short-lived token"),
        (
            {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
            "Invalid JWT: Token must be a short-lived token",
        ),
        ({"iss": "someone@elsewhere.iam.gserviceaccount.com"}, "Invalid grant: account not found"),
    ],
    ids=["audience", "too-long", "expired", "account"],
)
def test_token_endpoint_refuses_each_fault_with_googles_description(
    emu: FcmEmulator, url: str, changed: dict[str, Any], description: str
) -> None:
    granted = httpx.post(
        f"{url}/token", data={"grant_type": JWT_GRANT, "assertion": assertion(url)}
    )
    assert granted.status_code == 200
    refused = httpx.post(
        f"{url}/token", data={"grant_type": JWT_GRANT, "assertion": assertion(url, **changed)}
    )
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert refused.json()["error_description"].startswith(description)
    assert len(emu.tokens) == 1


def test_a_token_without_an_fcm_scope_is_issued_and_refused_at_send(
    emu: FcmEmulator, url: str
) -> None:
    account = service_account(url)
    no_fcm = service_account_credentials.Credentials.from_service_account_info(
        account, scopes=["https://www.googleapis.com/auth/userinfo.email"]
    )
    no_fcm.refresh(google_requests.Request())
    answer = httpx.post(
        f"{url}/v1/projects/{PROJECT}/messages:send",
        headers={"Authorization": f"Bearer {no_fcm.token}"},
        json={"message": {"token": DEVICE, "notification": {"title": "会员日"}}},
    )
    error = answer.json()["error"]
    assert (answer.status_code, error["status"]) == (403, "PERMISSION_DENIED")
    assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert emu.deliveries == []
