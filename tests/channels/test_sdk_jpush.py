"""The JPush emulator checked by JPush's own Python client (`jpush`), pointed at it through a
zone of its own in the client's zone table (the client's way to choose a data centre). JPush
authenticates with Basic auth, not a signature, so there is no signing function to compare the
adapter's requests with; the adapter's own tests cover its Authorization header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jpush
import pytest

from emulators.jpush import JPushEmulator

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
    with pytest.raises(jpush.Unauthorized):
        notification(jpush.JPush(APP_KEY, "wrong", zone=zone)).send()
    assert emu.traffic == [("/v3/push", 401)]
    assert emu.deliveries == []
