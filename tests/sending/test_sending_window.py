"""At send time marketing SMS wait for the legal sending window (CN-07), whatever the spec's
quiet hours allow: quiet hours 03:00–08:00 once let SMS go out at 01:22 Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import Engine

from tests.sending.fixtures import ScriptedProvider, make_campaign
from tests.sending.test_engine import engine_for, run_pass

NIGHT = datetime(2026, 11, 24, 17, 22, tzinfo=UTC)  # 01:22 on the 25th in Shanghai
MORNING = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


async def test_sms_waits_for_the_window_the_spec_would_widen(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=aliyun")
    cid, _ = make_campaign(pg_engine, NIGHT, customers=3, quiet=(time(3, 0), time(8, 0)))
    provider = ScriptedProvider()
    night = await run_pass(engine_for(pg_engine, provider), cid, at=NIGHT)
    assert night.sent == 0 and night.deferred == 3 and not provider.accepted
    assert night.next_due_at == MORNING
