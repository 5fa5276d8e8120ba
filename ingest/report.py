"""What an import returns, and the one error for a file that is not what it claims to be."""

from __future__ import annotations

from pydantic import BaseModel


class ImportFileError(Exception):
    """The whole file is unusable (wrong columns, not UTF-8, binary…); nothing was imported.

    The message names the file and the problem and never contains a data value.
    """


class ChunkCounts(BaseModel):
    """What writing one chunk of accepted rows did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    flagged: int = 0
    merged: int = 0


class ImportReport(BaseModel):
    """Counts of one import.

    rows_read = inserted + updated + unchanged + rejected. `unchanged` rows were valid but
    already in the database as given (re-imports); `flagged` counts data-quality flags raised
    on imported rows; `merged` counts duplicate profiles folded into another one.
    """

    kind: str
    file_name: str
    run_id: int
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    flagged: int = 0
    merged: int = 0
    seconds: float = 0.0
    reject_file: str | None = None

    @property
    def imported(self) -> int:
        """Rows that changed the database (new or updated)."""
        return self.inserted + self.updated

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def add(self, counts: ChunkCounts) -> None:
        for name in ChunkCounts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(counts, name))
