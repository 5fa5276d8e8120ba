"""A deterministic synthetic retail customer base: profiles, consents, orders, behavior.

Same seed and same day → the same customers, every time. Names and cities are Chinese; the
PII is encrypted exactly as imported data would be. `python -m demo.seed [--customers N]` seeds
the database of DATABASE_URL (the product's CLI never imports the demo).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from content.neutralize import printable
from db.engine import engine_for, session_scope
from models.ingest_tables import ImportRun
from models.tables import BehaviorEvent, ConsentEvent, Customer, Order
from privacy.blind_index import blind_index
from privacy.cipher import encrypt
from settings import settings

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯鹏晨欣怡婷雪琳"
)
CITIES = {
    "上海": ["静安区", "徐汇区", "浦东新区", "黄浦区"],
    "北京": ["朝阳区", "海淀区", "东城区"],
    "广州": ["天河区", "越秀区"],
    "深圳": ["福田区", "南山区"],
    "杭州": ["西湖区", "上城区"],
    "成都": ["锦江区", "武侯区"],
    "南京": ["鼓楼区", "玄武区"],
    "武汉": ["江汉区", "武昌区"],
}
LEVELS = ["普通", "银卡", "金卡", "钻石"]
CATEGORIES = ["服饰", "美妆", "鞋包", "家居", "食品", "运动", "珠宝"]
CHANNEL_SHARE = {"sms": 0.75, "email": 0.55, "app_push": 0.45, "wechat_mini": 0.4}
EVENT_TYPES = ["login", "browse", "add_to_cart", "favorite", "message_open", "message_click"]


@dataclass(frozen=True)
class SeedReport:
    customers: int
    orders: int
    events: int
    consents: int


def _customer(rng: random.Random, n: int, today: datetime) -> dict[str, Any]:
    city = rng.choice(list(CITIES))
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    email = f"member{n:05d}@example.com"
    return {
        "external_id": f"M{n:06d}",
        "name_enc": encrypt(name, "name"),
        "phone_enc": encrypt(phone, "phone"),
        "email_enc": encrypt(email, "email"),
        "address_enc": encrypt(
            f"{city}{rng.choice(CITIES[city])}幸福路{rng.randint(1, 999)}号", "address"
        ),
        "phone_index": blind_index("phone", phone),
        "email_index": blind_index("email", email),
        "device_id": f"dev-{rng.getrandbits(48):012x}" if rng.random() < 0.6 else None,
        "wechat_openid": f"o{rng.getrandbits(100):026x}"[:28] if rng.random() < 0.7 else None,
        "gender": rng.choice(["F", "F", "M"]),
        "birth_year": rng.randint(1958, 2006),
        "city": city,
        "district": rng.choice(CITIES[city]),
        "member_level": rng.choice(LEVELS),
        "home_store": f"{city}{rng.choice(['中心', '万象', '新天地'])}店",
        "timezone": "Asia/Hong_Kong" if rng.random() < 0.03 else "Asia/Shanghai",
        "registered_at": today - timedelta(days=rng.randint(5, 1100)),
    }


def _history(
    rng: random.Random, cid: int, reg: datetime, today: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    habit_hour = rng.choice([8, 10, 12, 13, 19, 20, 21, 22])
    kind = rng.random()
    if kind < 0.25:
        span, count = (91, 400), rng.randint(1, 2)  # dormant: bought long ago
    elif kind < 0.45:
        span, count = (31, 90), rng.randint(1, 3)  # at risk
    else:
        span, count = (0, 60), rng.randint(0, 9)
    orders, events = [], []
    for _ in range(count):
        age = rng.randint(*span)
        at = max(reg, today - timedelta(days=age)) + timedelta(
            hours=habit_hour, minutes=rng.randint(0, 59)
        )
        orders.append(
            {
                "customer_id": cid,
                "ordered_at": min(at, today),
                "amount": Decimal(rng.randint(39, 2400)) + Decimal("0.90"),
                "category": rng.choice(CATEGORIES),
                "store": None,
            }
        )
    for _ in range(rng.randint(2, 14)):
        at = today - timedelta(days=rng.randint(0, 120))
        hour = (habit_hour + rng.choice([0, 0, 0, 1, -1, 2])) % 24
        events.append(
            {
                "customer_id": cid,
                "event_type": rng.choice(EVENT_TYPES),
                "occurred_at": at.replace(hour=hour, minute=rng.randint(0, 59)),
                "channel": rng.choice(list(CHANNEL_SHARE)),
            }
        )
    return orders, events


def already_present(session: Session) -> str:
    """Why seeding does nothing, naming what is there: an operator's imported customers (the
    import runs say so) are not the demo's."""
    customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    imports = (
        session.execute(
            select(ImportRun.file_name).where(ImportRun.kind == "customers").order_by(ImportRun.id)
        )
        .scalars()
        .all()
    )
    if not imports:
        return f"demo data already present ({customers:,} customers); nothing seeded"
    return (
        f"the database already holds {customers:,} customers, imported from "
        f"{len(imports)} customer file(s) (latest {imports[-1]}); the demo base is only "
        "seeded into an empty database: nothing seeded"
    )


def seed_demo(
    session: Session, customers: int = 3000, seed: int = 20231125, today: datetime | None = None
) -> SeedReport | None:
    """Create the demo base unless customers already exist (then None)."""
    if session.execute(select(func.count()).select_from(Customer)).scalar_one():
        return None
    rng = random.Random(seed)
    today = (today or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [_customer(rng, n, today) for n in range(1, customers + 1)]
    session.execute(insert(Customer), rows)
    ids = dict(session.execute(select(Customer.external_id, Customer.id)).all())
    orders, events, consents = [], [], []
    for row in rows:
        cid = ids[row["external_id"]]
        o, e = _history(rng, cid, row["registered_at"], today)
        orders += [dict(x, external_id=f"O{cid:06d}-{i}") for i, x in enumerate(o)]
        events += e
        for channel, share in CHANNEL_SHARE.items():
            if rng.random() < share:
                grant = {
                    "customer_id": cid,
                    "channel": channel,
                    "purpose": "marketing",
                    "granted": True,
                    "source": "member_signup",
                    "wording_version": "2024-01",
                    "recorded_at": row["registered_at"],
                }
                consents.append(grant)
                if channel == "app_push":  # the app's own opt-in to promotional pushes (CN-23)
                    consents.append(
                        grant | {"purpose": "push_marketing", "source": "app_push_settings"}
                    )
    for table, data in ((Order, orders), (BehaviorEvent, events), (ConsentEvent, consents)):
        if data:
            session.execute(insert(table), data)
    return SeedReport(
        customers=len(rows), orders=len(orders), events=len(events), consents=len(consents)
    )


def seed_database(database_url: str, customers: int = 3000, seed: int = 20231125) -> str:
    """Seed the database at `database_url` if it has no customers; what happened, in one line."""
    with session_scope(engine_for(database_url)) as session:
        made = seed_demo(session, customers=customers, seed=seed)
        present = already_present(session) if made is None else ""
    if made is None:
        return present
    return (
        f"seeded {made.customers} customers, {made.orders} orders, "
        f"{made.events} behavior events, {made.consents} consents"
    )


def main(
    customers: Annotated[int, typer.Option(min=10, max=1_000_000)] = 3000,
    seed: Annotated[int, typer.Option()] = 20231125,
) -> None:
    """Fill an empty database (DATABASE_URL) with the synthetic demo customer base."""
    typer.echo(printable(seed_database(settings().database_url, customers, seed)))


if __name__ == "__main__":
    typer.run(main)
