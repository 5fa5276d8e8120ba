"""The same per-module PostgreSQL and SQLite databases as tests/profiles, made with every table
(journeys touch the contact ledger and quota tables through the send-closing code)."""

import models.schema  # noqa: F401
from tests.profiles.conftest import engine, session  # noqa: F401
