"""`retention`: how long each kind of data is kept (CN-29) and when the next purge runs."""

from __future__ import annotations

from typing import Any

from cli.common import JsonOpt, app, client, console, load_settings, print_json, run
from cli.errors import OperatorError
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
    sid = retention_schedule_id(cfg.task_queue)

    async def upcoming() -> str | None:
        when = await next_purge(await client(cfg), cfg.task_queue)
        return when.isoformat() if when else None

    unknown = ""
    try:
        nxt = run(upcoming())
    except OperatorError as exc:  # the policy is still worth showing
        nxt, unknown = None, str(exc)
    shown: dict[str, Any] = {
        "periods": {
            "customers_inactive_years": policy.customer_years,
            "behaviour_events_days": policy.events_days,
            "message_bodies_days": policy.bodies_days,
            "call_evidence_days": policy.call_evidence_days,
        },
        "schedule": sid,
        "every_hours": cfg.retention_purge_hours,
        "next_purge": nxt,
        "next_purge_unknown": unknown or None,
    }
    if as_json:
        print_json(shown)
        return
    for (kind, what), amount in zip(WHAT.items(), shown["periods"].values(), strict=True):
        unit = "years" if kind == "customers" else "days"
        console.print(f"{what:<32} {amount} {unit}: purged")
    if nxt:
        console.print(f"next purge: {nxt} (schedule {sid})")
    elif unknown:
        console.print(f"next purge: unknown ({unknown})")
    else:
        console.print(
            f"next purge: none scheduled (schedule {sid} missing or paused; a worker creates "
            "it when OMNIREACH_RETENTION_PURGE_HOURS > 0)"
        )
