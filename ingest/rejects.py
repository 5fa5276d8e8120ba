"""The reject file: one CSV line per problem (line, field, value, reason), PII masked.

Clerks open it in a spreadsheet and every cell comes from an untrusted file, so each text cell
is written through content.neutralize.csv_cell (no formula runs, no control code survives).

It is written to a temporary name beside the target and renamed at the end, so a failed
import never leaves a half-written reject file behind.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from content.neutralize import csv_cell
from ingest.report import ImportFileError
from privacy.masking import mask_address, mask_email, mask_name, mask_phone, scrub

MASKS: dict[str, Callable[[str | None], str]] = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_address,
}
MAX_SHOWN = 80


def shown(field: str, value: str | None) -> str:
    """What the reject file may show of a value: masked PII, scrubbed and shortened text."""
    if value is None:
        return ""
    mask = MASKS.get(field)
    text = mask(value) if mask else scrub(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _cell(text: str) -> str:
    return str(csv_cell(text))


class RejectWriter:
    """Collects the rejects of one chunk and writes them in line order (if a path was given)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._pending: list[tuple[int, str, str, str]] = []
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.part") if path else None
        self._fh: TextIO | None = None
        self._csv: Any = None

    def __enter__(self) -> RejectWriter:
        if self._tmp is not None:
            try:
                self._fh = self._tmp.open("w", encoding="utf-8", newline="")
            except OSError as exc:
                raise ImportFileError(
                    f"cannot write the reject file {self.path}: {exc.strerror}"
                ) from None
            self._csv = csv.writer(self._fh)
            self._csv.writerow(["line", "field", "value", "reason"])
        return self

    def add(self, line: int, field: str, value: str | None, reason: str) -> None:
        if self._csv is not None:
            self._pending.append((line, _cell(field), _cell(shown(field, value)), _cell(reason)))

    def flush(self) -> None:
        """Write what was collected, sorted by line (chunks cover consecutive lines)."""
        if self._csv is not None:
            self._pending.sort(key=lambda r: r[0])
            self._csv.writerows(self._pending)
        self._pending.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fh is None or self._tmp is None or self.path is None:
            return
        if exc_type is None:
            self.flush()
        self._fh.close()
        if exc_type is None:
            self._tmp.replace(self.path)
        else:
            self._tmp.unlink(missing_ok=True)
