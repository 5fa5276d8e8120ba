"""Journey specs the journey tests share: the base test campaign with steps."""

from __future__ import annotations

from typing import Any

BODY = "{{ honorific }}，{{ home_store }}会员日礼券已到账，{{ end_time }}前有效。"


def ab_then_remind(wait: Any = "1d", **first: Any) -> list[dict[str, Any]]:
    """Send A/B → wait → branch on click: clickers end, the rest get a reminder."""
    return [
        {
            "id": "first",
            "send": {
                "variants": [
                    {"id": "A", "weight": 1, "body": "A：" + BODY},
                    {"id": "B", "weight": 1, "body": "B：" + BODY},
                ],
                **first,
            },
            "next": "pause",
        },
        {"id": "pause", "wait": wait, "next": "check"},
        {
            "id": "check",
            "branch": {
                "when": [
                    {"if": {"engaged": {"step": "first", "did": "clicked"}}, "then": "thanks"}
                ],
                "else": "remind",
            },
        },
        {"id": "remind", "send": {"body": "提醒：" + BODY, "template": "t-remind"}},
        {"id": "thanks", "wait": "1h"},
    ]
