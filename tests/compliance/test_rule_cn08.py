"""CN-08: our caps stay within every configured provider's per-number limits, checked by the
compliance check and when the worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.findings import Severity
from compliance.provider_limits import (
    ProviderLimitError,
    ProviderLimits,
    check_provider_limits,
    overruns,
)
from policy.frequency_cap import CapRules, load_caps
from settings import ROOT

LIMITS: ProviderLimits = {
    "sms": {"aliyun": {"day": 50}, "tencent": {"day": 2}, "huawei": {"minute": 15}}
}


def caps_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "caps.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_caps_stay_within_every_configured_provider(config) -> None:
    for provider in ("aliyun", "tencent", "huawei"):
        check_provider_limits(config, load_caps(), {"sms": provider})


def test_a_calendar_day_cap_counts_twice_in_a_rolling_day() -> None:
    caps = CapRules(per_day_total=2, per_week_total=None, template_cycle_days=None)
    [overrun] = overruns(caps, {"sms": "tencent"}, LIMITS)
    assert (overrun.reachable, overrun.limit, overrun.window) == (4, 2, "day")
    assert overrun.cap == "caps.yaml per_day_total"


def test_the_tightest_cap_decides() -> None:
    caps = CapRules(per_day_total=30, per_week_by_channel={"sms": 1}, per_week_total=None)
    assert overruns(caps, {"sms": "tencent"}, LIMITS) == []


def test_no_cap_at_all_is_refused() -> None:
    [overrun] = overruns(CapRules.unlimited(), {"sms": "huawei"}, LIMITS)
    assert overrun.reachable is None and "no cap bounds" in overrun.describe()


def test_error_names_cap_and_provider(config) -> None:
    caps = CapRules(per_day_total=20, per_week_total=None)
    with pytest.raises(ProviderLimitError) as err:
        check_provider_limits(config, caps, {"sms": "huawei"})
    message = str(err.value)
    assert "caps.yaml per_day_total" in message and "provider huawei" in message
    assert "15 per number per minute" in message


def test_compliance_check_blocks_a_campaign_whose_caps_reach_the_limit(
    make_spec, run_rule, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=tencent")
    monkeypatch.setenv("OMNIREACH_CAPS_FILE", str(caps_file(tmp_path, "per_day_total: 5\n")))
    [finding] = run_rule("CN-08", make_spec())
    assert finding.severity is Severity.BLOCK and finding.channel == "sms"
    assert "provider tencent" in finding.message


def test_compliance_check_passes_with_the_default_caps(make_spec, run_rule, monkeypatch) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=tencent")
    assert run_rule("CN-08", make_spec()) == []


def test_the_worker_refuses_to_start(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        OMNIREACH_CHANNEL_PROVIDERS="sms=aliyun",
        OMNIREACH_CAPS_FILE=str(caps_file(tmp_path, "per_day_total: 40\nper_week_total: null\n")),
        TEMPORAL_ADDRESS="127.0.0.1:1",
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "worker.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert line.startswith("worker: caps.yaml per_day_total lets up to 80 sms messages")
    assert "provider aliyun allows 50" in line and "\n" not in line
