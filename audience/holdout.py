"""Deterministic holdout: same customer + same campaign → same side, on any backend, every time.

bucket(id) = x3 mod 10000, where, modulo the prime P = 2^31 − 1 and with salts from the
SHA-256 of the campaign id,
  x1 = ((id mod P) · m + s1) mod P,  x2 = (x1² + s2) mod P,  x3 = (x2² + s3) mod P.
Every intermediate stays below 2^63, so PostgreSQL bigint and SQLite integers compute the same
value as Python. The squarings make two campaigns' holdouts unrelated. A customer is held out
when bucket < round(percent × 100). Customer ids are positive.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from sqlalchemy import SQLColumnExpression, false
from sqlalchemy.sql import ColumnElement

P = 2_147_483_647
BUCKETS = 10_000


@lru_cache(maxsize=256)
def salts(campaign_id: str) -> tuple[int, int, int, int]:
    """(m, s1, s2, s3) for a campaign; m is never 0."""
    digest = hashlib.sha256(campaign_id.encode("utf-8")).digest()
    m, s1, s2, s3 = (int.from_bytes(digest[i : i + 8], "big") for i in range(0, 32, 8))
    return 1 + m % (P - 1), s1 % P, s2 % P, s3 % P


def threshold(percent: float) -> int:
    if not 0 <= percent <= 100:
        raise ValueError(f"holdout_percent must be within 0–100, got {percent}")
    return round(percent * BUCKETS / 100)


def bucket(customer_id: int, campaign_id: str) -> int:
    """The pure-Python twin of `bucket_expr`."""
    m, s1, s2, s3 = salts(campaign_id)
    x1 = ((customer_id % P) * m + s1) % P
    x2 = (x1 * x1 + s2) % P
    x3 = (x2 * x2 + s3) % P
    return x3 % BUCKETS


def in_holdout(customer_id: int, campaign_id: str, percent: float) -> bool:
    return bucket(customer_id, campaign_id) < threshold(percent)


def bucket_expr(customer_id: SQLColumnExpression[int], campaign_id: str) -> ColumnElement[int]:
    m, s1, s2, s3 = salts(campaign_id)
    x1 = ((customer_id % P) * m + s1) % P
    x2 = (x1 * x1 + s2) % P
    x3 = (x2 * x2 + s3) % P
    return x3 % BUCKETS


def holdout_expr(
    customer_id: SQLColumnExpression[int], campaign_id: str, percent: float
) -> ColumnElement[bool]:
    cut = threshold(percent)
    return bucket_expr(customer_id, campaign_id) < cut if cut > 0 else false()
