"""Tables the importer keeps beside the customer data: runs, data-quality flags, merges.

Aliases make re-imports land on a merged profile: once customer B was merged into A, every later
row that names B (orders, events, consents, or B's own customer row) resolves to A.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Id, UtcDateTime


class ImportRun(Base):
    """One import of one file, with what it did (the counts of its ImportReport)."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)


class ImportFlag(Base):
    """A logically odd row that was imported anyway; one row per record and problem."""

    __tablename__ = "import_flags"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_key: Mapped[str] = mapped_column(String(255))
    line: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    code: Mapped[str] = mapped_column(String(48))
    detail: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("kind", "record_key", "code"),)


class CustomerAlias(Base):
    """A retailer id that now belongs to another profile (the duplicate side of a merge)."""

    __tablename__ = "customer_aliases"
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerMerge(Base):
    """Why two profiles became one: the merged id, the survivor and the matching key."""

    __tablename__ = "customer_merges"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_customer_id: Mapped[int] = mapped_column(Id)
    merged_external_id: Mapped[str] = mapped_column(String(64))
    matched_on: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"))
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ImportedEventKey(Base):
    """The retailer's event ids already imported, so re-sent events are not counted twice.

    run_id is provenance (the import that first brought the id), deliberately without a foreign
    key: checking one per event would cost a sixth of an event import."""

    __tablename__ = "imported_event_keys"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    run_id: Mapped[int] = mapped_column(Id)
