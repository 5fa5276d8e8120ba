"""The journey parts of a spec: wait shorthands, each step's copy, and specs without steps."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import yaml

from models.journey import EventWait, Wait
from models.spec import CampaignSpec
from tests.cli.test_journey_spec_errors import JOURNEY
from tests.cli.test_spec_errors import EXAMPLE

WINDOW = {"start": "2030-01-01T09:00:00+08:00", "end": "2030-01-01T10:00:00+08:00"}


def spec_of(doc: dict[str, Any]) -> CampaignSpec:
    return CampaignSpec.model_validate(doc | {"send_window": WINDOW})


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2d", Wait(duration=timedelta(days=2))),
        ("90m", Wait(duration=timedelta(minutes=90))),
        ('"10:00"', Wait(at=time(10, 0))),
        ("7:05", None),  # unquoted: YAML reads a number, refused below
        (
            "{event: order, timeout: 3d}",
            Wait(event=EventWait(event="order", timeout=timedelta(days=3))),
        ),
        ("{duration: 1h}", Wait(duration=timedelta(hours=1))),
    ],
)
def test_wait_shorthands(written: str, expected: Wait | None) -> None:
    value = yaml.safe_load(f"wait: {written}")["wait"]
    if expected is None:
        with pytest.raises(ValueError, match="quoted time of day"):
            Wait.model_validate(value)
    else:
        assert Wait.model_validate(value) == expected


def test_a_spec_without_steps_is_one_send_with_the_channel_copy() -> None:
    doc = {k: v for k, v in yaml.safe_load(EXAMPLE).items() if k not in ("steps", "exit_when")}
    spec = spec_of(doc)
    assert spec.steps is None and spec.exit_when is None and not spec.journey
    assert spec.all_contents() == list(spec.channels)
    assert spec.content("sms") is spec.channel("sms")
    stored = spec.model_dump(mode="json", by_alias=True)  # as the campaigns table keeps it
    assert (stored["steps"], stored["exit_when"]) == (None, None)
    assert CampaignSpec.model_validate(stored) == spec


def test_every_step_and_variant_copy_is_a_content() -> None:
    spec = spec_of(JOURNEY)
    assert spec.journey
    bodies = {(c.channel, c.template, c.subject) for c in spec.all_contents()}
    assert ("sms", "SMS_205123457", None) in bodies  # variant B's own template
    assert any("即将到期" in (s or "") for _, _, s in bodies)  # the reminder's subject
    b = spec.content("sms", "coupon_sms", "B")
    assert b.body.startswith("{{ honorific }}，{{ home_store }}送您")
    assert spec.content("sms", "coupon_sms", "A").body == spec.channel("sms").body
