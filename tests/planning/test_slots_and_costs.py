"""Send-time slots against quiet hours and windows, and the unit-cost table (pure Python)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from models.spec import QuietHours, SendWindow
from planning.costs import DEFAULT_UNIT_COSTS, unit_costs
from planning.slots import SUBSLOTS, allowed_intervals, slot, slot_times
from policy.quiet_hours import in_quiet_hours

QUIET = QuietHours.model_validate({"start": "21:00", "end": "08:00"})
SH = "Asia/Shanghai"


def _window(start: datetime, length: timedelta) -> SendWindow:
    return SendWindow(start=start, end=start + length)


def test_long_window_uses_the_local_best_hour() -> None:
    window = _window(datetime(2026, 3, 2, 0, 0, tzinfo=UTC), timedelta(days=2))  # 08:00 local
    assert slot(window, QUIET, SH, 10) == (
        datetime(2026, 3, 2, 2, tzinfo=UTC),
        datetime(2026, 3, 2, 3, tzinfo=UTC),
    )
    # 22:00 local is quiet: the next allowed stretch starts at 08:00 local the next day
    assert slot(window, QUIET, SH, 22) == (
        datetime(2026, 3, 3, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 1, tzinfo=UTC),
    )


def test_every_time_is_inside_the_window_and_outside_quiet_hours() -> None:
    starts = [datetime(2026, 3, 2, h, 17, tzinfo=UTC) for h in range(0, 24, 5)]
    lengths = [timedelta(minutes=7), timedelta(hours=5), timedelta(days=1, hours=3)]
    zones = [SH, "America/New_York", "Asia/Kolkata", "Europe/London"]
    for start in starts:
        for length in lengths:
            window = _window(start, length)
            for tz in zones:
                for hour in range(24):
                    times = slot_times(window, QUIET, tz, hour)
                    free = allowed_intervals(window.start, window.end, tz, QUIET)
                    assert (times is None) == (not free)
                    for at in times or []:
                        assert window.start <= at < window.end
                        assert not in_quiet_hours(at, tz, QUIET)


def test_short_window_maps_hours_proportionally() -> None:
    window = _window(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), timedelta(minutes=24))  # 11:00
    for hour in (0, 9, 23):
        times = slot_times(window, QUIET, SH, hour)
        assert times is not None and len(times) == SUBSLOTS
        assert times[0] == window.start + timedelta(minutes=hour)
        assert times[-1] < window.start + timedelta(minutes=hour + 1)


def test_all_quiet_and_unknown_zone_give_no_slot() -> None:
    night = _window(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), timedelta(hours=2))  # 23–01 local
    assert slot_times(night, QUIET, SH, 10) is None
    assert slot_times(night, None, SH, 10) is not None
    assert slot_times(night, QUIET, "Mars/Olympus", 10) is None


def test_unit_costs_defaults_override_and_errors() -> None:
    assert unit_costs("") == DEFAULT_UNIT_COSTS
    assert unit_costs('{"sms": 0.05}')["sms"] == Decimal("0.05")
    for raw, message in (
        ("{", "not valid JSON"),
        ("[1]", "JSON object"),
        ('{"fax": 1}', "unknown channel 'fax'"),
        ('{"sms": "cheap"}', "not a number"),
        ('{"sms": -1}', "≥ 0"),
    ):
        with pytest.raises(ValueError, match=message):
            unit_costs(raw)
