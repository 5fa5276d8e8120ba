"""`make demo`: one campaign end to end on embedded defaults, then every process is stopped.

Migrates and seeds the SQLite database, starts a Temporal dev server (Web UI on :8233) and a
worker, starts the example campaign as one user, approves it as another, waits for the timed
sends and the review, and prints the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import yaml

from compliance.sending_window import legal_window
from db.engine import engine_for, session_scope
from db.migrations import upgrade
from demo.clickers import simulate_clicks
from demo.people import enroll_people, key_file
from demo.processes import spawn, start_temporal, stop
from demo.seed import seed_database
from demo.shoppers import simulate_purchases
from demo.wire import wire_emulators
from models.spec import QuietHours
from policy.quiet_hours import in_quiet_hours
from settings import DEFAULT_DATABASE_URL, ROOT, Settings

VAR = ROOT / "var"
KEYS = VAR / "keys"
EMBEDDED_DB = VAR / "omnireach.db"  # the file of settings.DEFAULT_DATABASE_URL
EXAMPLE = ROOT / "examples" / "demo-campaign.yaml"
REQUESTER, APPROVER, ADMIN, OFFICER = "王芳", "李娜", "管理员", "陈静"
FIRST = "first_sms"  # the journey's first step in the example
PIA = "PIA-2026-001"  # the impact assessment the example campaign cites (CN-27)
DEMO_ATTRIBUTION = "3m"
DEMO_WAIT = "3m"  # the journey's waits: days in the example, minutes in the demo


def say(text: str) -> None:
    print(f"\n\033[1m▶ {text}\033[0m", flush=True)


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args], text=True, capture_output=True, cwd=ROOT
    )
    if proc.stderr.strip():
        print(proc.stderr.rstrip())
    if check and proc.returncode != 0:
        raise RuntimeError(f"starter.py {' '.join(args)} exited {proc.returncode}")
    return proc


def status(cid: str) -> dict[str, Any]:
    return json.loads(cli("status", cid, "--json").stdout)


def wait_for(
    cid: str,
    phases: set[str],
    seconds: float,
    until: Callable[[dict[str, Any]], bool] = lambda st: True,
) -> dict[str, Any]:
    deadline, last = time.monotonic() + seconds, ""
    while time.monotonic() < deadline:
        st = status(cid)
        counters = st["counters"]
        at = "  ".join(f"{step} {n}" for step, n in st.get("journey", {}).items())
        line = (
            f"  phase {st['phase']:<18} planned {counters['planned']:>5}  "
            f"sent {counters['sent']:>5}" + (f"  journey: {at}" if at else "")
        )
        if line != last:
            print(line, flush=True)
            last = line
        if st["phase"] in phases and until(st):
            return st
        time.sleep(2)
    raise RuntimeError(f"campaign {cid} did not reach {phases} within {seconds:.0f} s")


def demo_caps() -> Path:
    """The demo squeezes the journey's two days into minutes, so its frequency cap allows the
    journey's two messages in one day (the default allows one)."""
    path = VAR / "demo-caps.yaml"
    doc = yaml.safe_load((ROOT / "config" / "caps.yaml").read_text(encoding="utf-8"))
    doc["per_day_total"] = 2
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def demo_spec() -> Path:
    """The example spec with a few minutes' attribution window; if the demo runs inside its
    quiet hours (Beijing time), they are moved so the few-minute window can send now — a real
    campaign would wait for morning instead."""
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    quiet = QuietHours.model_validate(doc["quiet_hours"])
    now = datetime.now(UTC)
    if any(in_quiet_hours(now + timedelta(minutes=m), "Asia/Shanghai", quiet) for m in range(0, 8)):
        start = (now + timedelta(hours=14)).astimezone().hour
        doc["quiet_hours"] = {
            "start": dtime(start).strftime("%H:%M"),
            "end": dtime((start + 8) % 24).strftime("%H:%M"),
        }
        say(f"the demo runs inside the example's quiet hours; using {doc['quiet_hours']} instead")
    # The review waits for the attribution window after the last send (7d in the example);
    # the demo's simulated shoppers buy within minutes, so its window is minutes too.
    doc["review"] = {**doc.get("review", {}), "attribution_window": DEMO_ATTRIBUTION}
    for step in doc.get("steps", []):
        if "wait" in step:
            step["wait"] = DEMO_WAIT
    say(f"the journey's waits last {DEMO_WAIT} in the demo (the example says days)")
    _push_when_sms_may_not_send(doc, now)
    say(
        f"the demo attributes orders within {DEMO_ATTRIBUTION} of a send, so its review comes "
        f"{DEMO_ATTRIBUTION} after the last send (the example says 7d)"
    )
    path = VAR / "demo-campaign.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _push_when_sms_may_not_send(doc: dict[str, Any], now: datetime) -> None:
    """Outside the legal window of marketing SMS (CN-07, Beijing time) the journey's first
    message goes by app push, so the demo runs at any hour; a real campaign waits for morning."""
    window = legal_window("sms")
    if window is None or window.outside is None:
        return
    outside = window.outside
    if not any(
        in_quiet_hours(now + timedelta(minutes=m), "Asia/Shanghai", outside) for m in range(12)
    ):
        return
    first = doc["steps"][0]["send"]
    first["channels"] = ["app_push"]
    for variant in first["variants"]:
        variant.pop("template", None)
        if "body" in variant:
            variant["body"] = (
                "{{ honorific }}，您有一张满300减50春季礼券待领取，{{ end_time }}前有效。"
            )
    say(
        f"it is outside the legal window of marketing SMS ({window.start:%H:%M}–{window.end:%H:%M} "
        "Beijing time, CN-07): the journey's first message goes by app push instead"
    )


def main() -> int:
    VAR.mkdir(exist_ok=True)
    os.environ.setdefault("OMNIREACH_SEND_SLOT_SECONDS", "5")
    os.environ.setdefault("OMNIREACH_CAPS_FILE", str(demo_caps()))
    settings = Settings.from_env()
    if settings.database_url == DEFAULT_DATABASE_URL:
        say("a fresh embedded database: an earlier run's messages would count against the caps")
        EMBEDDED_DB.unlink(missing_ok=True)
    say("migrating the database")
    upgrade(settings.database_url)
    say("seeding the demo customer base")
    seed_database(settings.database_url)
    say(
        f"people: {ADMIN} (admin) enrolls {APPROVER} (approver), {OFFICER} (compliance officer) "
        f"and {REQUESTER}, each with a key of their own; every decision is signed"
    )
    enroll_people(
        cli,
        settings.database_url,
        KEYS,
        ADMIN,
        {APPROVER: "approver", OFFICER: "compliance_officer", REQUESTER: ""},
    )
    record_assessment()
    say("starting the Temporal dev server (Web UI: http://127.0.0.1:8233)")
    temporal = start_temporal(VAR)
    try:
        say("starting the provider emulators: SMTP, Alibaba Cloud SMS, JPush")
        with wire_emulators(VAR) as wire:
            say(
                "starting the worker (Prometheus metrics: http://127.0.0.1:9464/metrics; "
                "it schedules the profile refresh: Web UI → Schedules)"
            )
            worker = spawn(
                [sys.executable, str(ROOT / "worker.py")], VAR / "worker.log", env=wire.env
            )
            try:
                cid = run_campaign(settings)
                say("what went over the wire")
                print(wire.summary())
            finally:
                stop(worker)
        say("review report")
        print(cli("report", cid).stdout)
        return 0
    finally:
        stop(temporal)
        say("stopped the worker, the emulators and the Temporal dev server")


def record_assessment() -> None:
    """The compliance officer records the impact assessment the campaign cites: it segments
    customers by lifecycle and RFM and hands data to providers (CN-27)."""
    listed = json.loads(cli("pia", "list", "--json").stdout)
    if any(a["id"] == PIA for a in listed):
        return
    say(f"{OFFICER} records the personal-information impact assessment {PIA}")
    print(
        cli(
            "pia",
            "add",
            PIA,
            "--title",
            "会员唤醒：生命周期与RFM分层，短信/邮件/推送服务商",
            "--scope",
            "lifecycle and RFM segmentation; SMS, email and push providers",
            "--as",
            OFFICER,
            "--key",
            str(key_file(KEYS, OFFICER)),
        ).stdout.rstrip()
    )


def run_campaign(settings: Settings) -> str:
    """Start, approve and follow the example campaign until its review is done."""
    say(f"starting the example campaign as {REQUESTER}")
    cid = cli("start", str(demo_spec()), "--as", REQUESTER).stdout.strip()
    wait_for(cid, {"awaiting_approval", "failed"}, 180)
    say("the plan the approver sees")
    print(cli("plan", cid).stdout)
    digest = json.loads(cli("plan", cid, "--json").stdout)["plan_digest"]
    say(f"{REQUESTER} tries to approve her own campaign (must be refused)")
    if (
        cli(
            "approve", cid, "--as", REQUESTER, "--key", str(key_file(KEYS, REQUESTER)), check=False
        ).returncode
        == 0
    ):
        raise RuntimeError("self-approval was accepted")
    say(f"{APPROVER} approves")
    print(
        cli(
            "approve",
            cid,
            "--as",
            APPROVER,
            "--plan",
            digest,
            "--comment",
            "预算合理，同意执行",
            "--key",
            str(key_file(KEYS, APPROVER)),
        ).stdout
    )
    stopped = {"compliance_failed", "failed", "cancelled"}
    st = wait_for(
        cid,
        {"sending", "awaiting_review", *stopped},
        600,
        until=lambda st: (
            st["phase"] != "sending" or bool(st["journey"]) and FIRST not in st["journey"]
        ),
    )
    if st["phase"] in stopped:
        raise RuntimeError(f"campaign ended {st['phase']}: {st['detail']}")
    say(
        "customers tap the link in the first message and some shop (simulated, demo only); "
        f"buyers leave the journey (its goal), the rest wait {DEMO_WAIT}"
    )
    with session_scope(engine_for(settings.database_url)) as session:
        clicks = simulate_clicks(session, cid, FIRST)
        print("  clicks per variant: " + ", ".join(f"{v} {n}" for v, n in sorted(clicks.items())))
        print(f"  {simulate_purchases(session, cid)} simulated orders")
    st = wait_for(cid, {"completed", *stopped}, 900)
    if st["phase"] in stopped:
        raise RuntimeError(f"campaign ended {st['phase']}: {st['detail']}")
    return cid


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        sys.exit(1)
