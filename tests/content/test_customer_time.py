"""Times shown to a customer are in that customer's time zone: the offer end in an email body or
an SMS template parameter once read `有效期至2026-12-02 17:48` (UTC) for Shanghai customers,
01:48 their time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from content.local_time import customer_time
from models.spec import CampaignSpec
from sending.claim import Claimed
from sending.deliver import build_message
from sending.recipients import Recipient

END = datetime(2026, 12, 2, 17, 48, tzinfo=UTC)
SPEC = CampaignSpec.model_validate(
    {
        "name": "冬季礼遇",
        "objective": "reactivate",
        "owner": "ops",
        "audience": {"segment": ["dormant"]},
        "channels": [
            {
                "channel": "sms",
                "template": "SMS_1",
                "body": "{{ honorific }}，礼券有效期至{{ end_time }}。拒收请回复R",
            },
            {
                "channel": "email",
                "template": "m",
                "subject": "【广告】礼券至{{ end_time }}",
                "body": "{{ honorific }}您好，有效期至{{ end_time }}。退订：{{ unsubscribe_url }}",
            },
        ],
        "send_window": {"start": "2026-12-02T10:00:00Z", "end": END.isoformat()},
        "budget": {"limit": 100},
    }
)


def _message(channel: str, tz: str):
    claim = Claimed(7, 42, channel, "t", Decimal("0.05"), f"c:42:{channel}:1", 0)
    recipient = Recipient(
        42,
        tz,
        "13800001111" if channel == "sms" else "a@example.com",
        {"honorific": "王女士", "member_level": "", "city": "", "home_store": ""},
    )
    message = build_message("c", SPEC, SPEC.name, claim, recipient)
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("tz", "shown"),
    [
        ("Asia/Shanghai", "2026-12-03 01:48"),
        ("Asia/Hong_Kong", "2026-12-03 01:48"),
        ("Europe/London", "2026-12-02 17:48"),
        ("America/New_York", "2026-12-02 12:48"),
        ("Mars/Olympus", "2026-12-03 01:48"),  # a zone that does not exist: the default, Shanghai
        ("", "2026-12-03 01:48"),
    ],
)
def test_end_time_is_local_to_the_customer(tz: str, shown: str) -> None:
    assert customer_time(END, tz) == shown
    sms = _message("sms", tz)
    assert sms.body == f"王女士，礼券有效期至{shown}。拒收请回复R"
    assert sms.params["end_time"] == shown  # what a template provider fills in
    email = _message("email", tz)
    assert email.subject == f"【广告】礼券至{shown}" and f"有效期至{shown}。" in email.body
