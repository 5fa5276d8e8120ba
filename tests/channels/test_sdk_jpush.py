"""The JPush emulator checked by JPush's own Python client (`jpush`), pointed at it through a
zone of its own in the client's zone table (the client's way to choose a data centre). JPush
authenticates with Basic auth, not a signature: the adapter's Authorization header is compared
with the one the client's own session puts on its requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jpush
import pytest
import requests

from channels.base import Outcome
from channels.push_jpush import JPushChannel, JPushSettings
from emulators.jpush import JPushEmulator
from tests.channels.conftest import message

APP_KEY = "8103a4c628a0b98974ec1949"
SECRET = "jpush-master-secret"
DEVICE = "1a0018970a8f3f8c6b1"


@pytest.fixture(scope="module")
def emu() -> JPushEmulator:
    return JPushEmulator(app_key=APP_KEY, master_secret=SECRET, devices=[DEVICE])


@pytest.fixture
def zone(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setitem(jpush.common.ZONES, "EMULATOR", {"PUSH": f"{url}/v3/"})
    yield "emulator"


def notification(client: Any, device: str = DEVICE) -> Any:
    push = client.create_push()
    push.audience = jpush.audience(jpush.registration_id(device))
    push.notification = jpush.notification(
        alert="全场8折", android=jpush.android(alert="全场8折", title="会员日")
    )
    push.platform = jpush.all_
    return push


def test_sdk_push_is_delivered_with_a_message_id(emu: JPushEmulator, zone: str) -> None:
    answer = notification(jpush.JPush(APP_KEY, SECRET, zone=zone)).send()
    assert answer.status_code == 200 and answer.payload["msg_id"]
    [delivery] = emu.deliveries
    assert delivery.address == DEVICE


def test_sdk_cid_makes_a_repeated_push_deliver_once(emu: JPushEmulator, zone: str) -> None:
    client = jpush.JPush(APP_KEY, SECRET, zone=zone)
    [cid] = client.create_push().get_cid(1, "push").payload["cidlist"]
    push = notification(client)
    push.cid = cid
    first, again = push.send(), push.send()
    assert first.payload == again.payload
    assert len(emu.deliveries) == 1


def test_sdk_validate_checks_like_a_push_and_delivers_nothing(
    emu: JPushEmulator, zone: str
) -> None:
    client = jpush.JPush(APP_KEY, SECRET, zone=zone)
    assert notification(client).send_validate().payload["msg_id"]
    with pytest.raises(jpush.JPushFailure) as refused:
        notification(client, "unknown-device").send_validate()
    assert refused.value.error_code == 1011
    assert emu.deliveries == []
    assert [path for path, _ in emu.traffic] == ["/v3/push/validate"] * 2


def test_wrong_master_secret_is_unauthorized(emu: JPushEmulator, zone: str) -> None:
    client = jpush.JPush(APP_KEY, "wrong", zone=zone)
    answers: list[requests.Response] = []
    client.session.hooks["response"].append(lambda answer, **_: answers.append(answer))
    with pytest.raises(jpush.Unauthorized):
        notification(client).send()
    [answer] = answers
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, 1004)
    assert emu.traffic == [("/v3/push", 401)]
    assert emu.deliveries == []


def sdk_authorization(url: str, secret: str) -> str:
    """The Authorization header the client's session puts on a push."""
    session = jpush.JPush(APP_KEY, secret).session
    prepared = session.prepare_request(requests.Request("POST", f"{url}/v3/push"))
    return str(prepared.headers["Authorization"])


async def test_adapter_authorizes_as_the_sdks_session_does(emu: JPushEmulator, url: str) -> None:
    captured: list[httpx.Request] = []

    async def capture(request: httpx.Request) -> None:
        captured.append(request)

    settings = JPushSettings(app_key=APP_KEY, master_secret=SECRET, base_url=url)
    client = httpx.AsyncClient(event_hooks={"request": [capture]})
    async with JPushChannel(settings, client=client) as channel:
        [sent] = await channel.send_batch([message(DEVICE, "push", subject="会员日")])
    await client.aclose()
    assert sent.outcome is Outcome.SENT
    assert {r.url.path for r in captured} == {"/v3/push/cid", "/v3/push"}
    assert {r.headers["authorization"] for r in captured} == {sdk_authorization(url, SECRET)}
    assert sdk_authorization(url, SECRET) != sdk_authorization(url, "another-secret")
