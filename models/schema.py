"""Every table module, imported once, so `Base.metadata` holds the whole schema (for Alembic)."""

from models import (  # noqa: F401
    cap_tables,
    compliance_tables,
    engagement_tables,
    governance_tables,
    ingest_tables,
    journey_tables,
    quota_tables,
    series_tables,
    tables,
    track_tables,
)
from models.tables import Base

metadata = Base.metadata
