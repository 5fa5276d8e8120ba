"""Frequency caps 防扰 across all campaigns, exact under concurrency.

Every allowed contact is reserved in the contact ledger inside the same transaction that
decides it, while the customers concerned are locked (PostgreSQL advisory locks; SQLite runs
writers one at a time), so two workers can never both take a customer's last slot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from db.among import among
from db.upsert import insert_rows
from models.cap_tables import ContactLedger
from models.tables import Campaign, PlannedSend
from policy.quiet_hours import zone
from settings import ROOT, settings

DEFAULT_FILE = ROOT / "config" / "caps.yaml"
OPEN = ("planned", "sending")
_LOCK_SPACE = 0x636170  # advisory-lock key space of the contact ledger


class CapRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    per_day_total: int | None = Field(default=1, ge=1)
    per_week_total: int | None = Field(default=3, ge=1)
    per_week_by_channel: dict[str, int] = Field(default_factory=dict)
    template_cycle_days: int | None = Field(default=30, ge=1)

    @classmethod
    def unlimited(cls) -> CapRules:
        return cls(per_day_total=None, per_week_total=None, template_cycle_days=None)


def load_caps(path: Path | None = None) -> CapRules:
    path = path or settings().caps_file or DEFAULT_FILE
    return CapRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


@dataclass(frozen=True)
class Wanted:
    """A send that wants a contact slot."""

    planned_send_id: int
    customer_id: int
    channel: str
    template: str
    timezone: str


def _lock_customers(session: Session, customer_ids: Sequence[int]) -> None:
    """Transaction-scoped advisory locks on the customers, in id order (no deadlocks)."""
    if session.get_bind().dialect.name == "postgresql" and customer_ids:
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:ids AS int[])) AS k "
                "ORDER BY k"
            ),
            {"space": _LOCK_SPACE, "ids": sorted(set(customer_ids))},
        )


@lru_cache(maxsize=4096)
def _periods(at: datetime, tz: str) -> tuple[str, str]:
    """Local day and ISO week of `at` in `tz` (cached: a batch asks it for one `at` and the
    customers' few zones)."""
    local = at.astimezone(zone(tz))
    iso = local.isocalendar()
    return local.date().isoformat(), f"{iso.year}-W{iso.week:02d}"


def _rivals(
    session: Session, campaign_id: str, priority: int, customer_ids: Sequence[int], at: datetime
) -> set[int]:
    """Customers for whom a higher-priority campaign has a contact still to make within a day."""
    rows = session.execute(
        select(PlannedSend.customer_id)
        .join(Campaign, Campaign.id == PlannedSend.campaign_id)
        .where(
            among(session, PlannedSend.customer_id, customer_ids),
            PlannedSend.campaign_id != campaign_id,
            PlannedSend.status.in_(OPEN),
            Campaign.priority > priority,
            PlannedSend.scheduled_at < at + timedelta(days=1),
        )
    ).scalars()
    return set(rows)


def reserve_contacts(
    session: Session,
    campaign_id: str,
    priority: int,
    wanted: Sequence[Wanted],
    at: datetime,
    rules: CapRules,
) -> dict[int, str]:
    """Reserve a contact for each wanted send that the caps allow; returns refusals
    (planned send id → reason) and records the rest in the ledger."""
    if not wanted:
        return {}
    ids = [w.customer_id for w in wanted]
    _lock_customers(session, ids)
    held = set(
        session.execute(
            select(ContactLedger.planned_send_id).where(
                among(session, ContactLedger.planned_send_id, [w.planned_send_id for w in wanted])
            )
        ).scalars()
    )
    tz_of = {w.customer_id: w.timezone for w in wanted}
    wanted = [w for w in wanted if w.planned_send_id not in held]  # reclaimed after a crash
    horizon = at - timedelta(days=max(rules.template_cycle_days or 0, 8))
    past = session.execute(
        select(
            ContactLedger.customer_id,
            ContactLedger.channel,
            ContactLedger.template,
            ContactLedger.at,
        ).where(among(session, ContactLedger.customer_id, ids), ContactLedger.at >= horizon)
    ).all()
    day: dict[tuple[int, str], int] = defaultdict(int)
    week: dict[tuple[int, str], int] = defaultdict(int)
    week_ch: dict[tuple[int, str, str], int] = defaultdict(int)
    templates: dict[int, list[tuple[str, datetime]]] = defaultdict(list)

    def count(cid: int, channel: str, template: str, when: datetime) -> None:
        d, w = _periods(when, tz_of[cid])
        day[(cid, d)] += 1
        week[(cid, w)] += 1
        week_ch[(cid, w, channel)] += 1
        templates[cid].append((template, when))

    for cid, channel, template, when in past:
        count(cid, channel, template, when)
    rivals = _rivals(session, campaign_id, priority, ids, at) if rules.per_day_total else set()
    refused: dict[int, str] = {}
    granted: list[Wanted] = []
    d_now: dict[int, tuple[str, str]] = {w.customer_id: _periods(at, w.timezone) for w in wanted}
    for w in wanted:
        d, wk = d_now[w.customer_id]
        cycle_start = at - timedelta(days=rules.template_cycle_days or 0)
        if rules.template_cycle_days and any(
            t == w.template and when >= cycle_start for t, when in templates[w.customer_id]
        ):
            refused[w.planned_send_id] = "frequency_cap:same_template"
        elif rules.per_day_total and day[(w.customer_id, d)] >= rules.per_day_total:
            refused[w.planned_send_id] = "frequency_cap:day"
        elif (
            rules.per_day_total
            and w.customer_id in rivals
            and (day[(w.customer_id, d)] + 1 >= rules.per_day_total)
        ):
            refused[w.planned_send_id] = "frequency_cap:priority"
        elif rules.per_week_total and week[(w.customer_id, wk)] >= rules.per_week_total:
            refused[w.planned_send_id] = "frequency_cap:week"
        elif week_ch[(w.customer_id, wk, w.channel)] >= rules.per_week_by_channel.get(
            w.channel, 10**9
        ):
            refused[w.planned_send_id] = f"frequency_cap:week_{w.channel}"
        else:
            count(w.customer_id, w.channel, w.template, at)
            granted.append(w)
    if granted:
        insert_rows(
            session,
            ContactLedger.__table__,
            [
                {
                    "customer_id": w.customer_id,
                    "channel": w.channel,
                    "campaign_id": campaign_id,
                    "template": w.template,
                    "planned_send_id": w.planned_send_id,
                    "at": at,
                }
                for w in granted
            ],
        )
    return refused


def release_contacts(session: Session, planned_send_ids: Sequence[int]) -> None:
    """Give back reservations for sends that did not go out (failed, retried later)."""
    if planned_send_ids:
        session.execute(
            delete(ContactLedger).where(
                among(session, ContactLedger.planned_send_id, planned_send_ids)
            )
        )
