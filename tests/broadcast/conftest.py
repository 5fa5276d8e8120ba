"""A real PostgreSQL database for these tests (see tests/engagement/kit.py)."""

from tests.engagement.kit import engine  # noqa: F401  (fixture)
