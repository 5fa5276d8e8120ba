"""`retention`: how long each kind of data is kept (CN-29) and when the next purge runs."""

from __future__ import annotations

from typing import Any

from cli.common import JsonOpt, app, client, console, load_settings, print_json, run
from optout.retention import RetentionPolicy
from orchestration.retention_schedule import next_purge, retention_schedule_id

WHAT = {
    "customers": "customers inactive for",
    "behaviour_events": "behaviour events older than",
    "message_bodies": "sent message bodies older than",
    "call_evidence": "call evidence older than",
}


@app.command("retention")
def retention_cmd(as_json: JsonOpt = False) -> None:
    """The retention policy (OMNIREACH_RETENTION_*) and when the purge schedule runs next."""
    cfg = load_settings()
    policy = RetentionPolicy.from_settings(cfg)

    async def go() -> dict[str, Any]:
        upcoming = await next_purge(await client(cfg), cfg.task_queue)
        return {
            "schedule": retention_schedule_id(cfg.task_queue),
            "every_hours": cfg.retention_purge_hours,
            "next_purge": upcoming.isoformat() if upcoming else None,
            "periods_days": {k: p.days for k, p in policy.periods().items()},
            "customer_years": policy.customer_years,
        }

    shown = run(go())
    if as_json:
        print_json(shown)
        return
    for kind, days in shown["periods_days"].items():
        span = f"{policy.customer_years} years" if kind == "customers" else f"{days} days"
        console.print(f"{WHAT[kind]:<32} {span}: purged")
    nxt = shown["next_purge"]
    console.print(
        f"next purge: {nxt} (schedule {shown['schedule']})"
        if nxt
        else f"next purge: none scheduled (schedule {shown['schedule']} missing or paused; a "
        "worker creates it when OMNIREACH_RETENTION_PURGE_HOURS > 0)"
    )
