"""Every table module, imported once, so `Base.metadata` holds the whole schema (for Alembic)."""

from models import cap_tables, governance_tables, ingest_tables, tables  # noqa: F401
from models.tables import Base

metadata = Base.metadata
