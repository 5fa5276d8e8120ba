"""Tags derived from data (source='data'), rewritten on every refresh; manual tags are kept.

Kinds (one of each per customer at most):
  age:<band>        from birth year at D: under_18, 18-24, 25-34, 35-44, 45-54, 55-64, 65+
  power:<band>      purchasing power from the M score: low (1–2), mid (3–4), high (5)
  category:<name>   the category the customer spent most on in the RFM window
  channel:<name>    preferred channel from past opens and clicks
  active:<band>     own best hour: morning 6–11, afternoon 12–17, evening 18–22, night 23–5
Only the difference is written: data tags no longer derived are deleted, new ones inserted
(ON CONFLICT DO NOTHING, so unchanged ones and manual tags with the same text stay as they are;
a manual tag always wins).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    String,
    Table,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import Label

from models.tables import Customer, CustomerProfile, CustomerTag
from profiles.sqlutil import analyze, insert_ignoring_duplicates, temp_table

AGE_BANDS = ((18, "under_18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"),
             (65, "55-64"))
HOUR_BANDS = ((6, "night"), (12, "morning"), (18, "afternoon"), (23, "evening"))
TAG_ROOM = 64


def _prefixed(prefix: str, value: ColumnElement[str]) -> Label[str]:
    return (literal(prefix) + func.substr(value, 1, TAG_ROOM - len(prefix))).label("tag")


def write_data_tags(session: Session, as_of: datetime, orders: Table, hours: Table,
                    min_events: int) -> None:
    """Bring data tags in line with the fresh profiles and the stats tables."""
    cp = CustomerProfile
    age = as_of.year - Customer.birth_year
    age_band = case(*((age < upper, name) for upper, name in AGE_BANDS), else_="65+")
    power = case((cp.m_score >= 5, "high"), (cp.m_score >= 3, "mid"), else_="low")
    hour_band = case(*((hours.c.best_hour < upper, name) for upper, name in HOUR_BANDS),
                     else_="night")
    derived = union_all(
        select(Customer.id.label("cid"), _prefixed("age:", age_band))
        .where(Customer.birth_year.is_not(None)),
        select(cp.customer_id, _prefixed("power:", power)).where(cp.m_score.is_not(None)),
        select(orders.c.customer_id, _prefixed("category:", orders.c.top_category))
        .where(orders.c.top_category.is_not(None)),
        select(cp.customer_id, _prefixed("channel:", cp.preferred_channel))
        .where(cp.preferred_channel.is_not(None)),
        select(hours.c.customer_id, _prefixed("active:", hour_band))
        .where(hours.c.events >= min_events),
    ).subquery()
    with temp_table(session, "tmp_tags", Column("customer_id", BigInteger),
                    Column("tag", String(64))) as fresh:
        session.execute(fresh.insert().from_select(
            ["customer_id", "tag"],
            select(derived.c.cid, derived.c.tag).where(derived.c.tag.is_not(None))))
        analyze(session, fresh)
        kept = exists().where(fresh.c.customer_id == CustomerTag.customer_id,
                              fresh.c.tag == CustomerTag.tag)
        session.execute(delete(CustomerTag).where(CustomerTag.source == "data", ~kept))
        session.execute(insert_ignoring_duplicates(session, CustomerTag.__table__).from_select(
            ["customer_id", "tag", "source"],
            select(fresh.c.customer_id, fresh.c.tag, literal("data"))
            .where(fresh.c.tag.is_not(None))))
