"""A real PostgreSQL database for these tests (see tests/governance/dbkit.py)."""

from tests.governance.dbkit import engine  # noqa: F401  (fixture)
