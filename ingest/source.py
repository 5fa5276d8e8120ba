"""Stream the rows of a CSV or JSON-lines file, after checking it is what it claims to be.

Rows come out one at a time with their line number, so memory does not grow with the file.
Anything wrong with the file as a whole (type, encoding, binary content, header) raises
ImportFileError; a malformed single row comes out with `problem` set and becomes a reject.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest.columns import COLUMNS, Kind, likely_kind
from ingest.report import ImportFileError

CSV_SUFFIXES = {".csv"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SNIFF_BYTES = 64 * 1024
MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?)",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file",
}


@dataclass(slots=True)
class RawRow:
    """One record as read: its first line number, its values, or what makes it unreadable."""

    line: int
    values: dict[str, str | None]
    problem: str | None = None


def read_rows(path: Path, kind: Kind) -> Iterator[RawRow]:
    """Yield the file's records; raise ImportFileError if the file is not a `kind` file."""
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | JSONL_SUFFIXES:
        raise ImportFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'!r}; "
            "use .csv, .jsonl or .ndjson"
        )
    if not path.is_file():
        raise ImportFileError(f"{path.name}: no such file")
    _sniff(path)
    rows = _csv_rows if suffix in CSV_SUFFIXES else _jsonl_rows
    with path.open("rb") as fh:
        yield from rows(_lines(fh, path.name), path.name, kind)


def _lines(fh: BinaryIO, name: str) -> Iterator[str]:
    """The file's lines as text (line endings kept, BOM dropped); a line that is not UTF-8
    fails the file with its exact line number."""
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(
                f"{name}: not UTF-8 text (invalid bytes on line {number}); save it as UTF-8"
            ) from None


def _sniff(path: Path) -> None:
    """Reject empty, binary and non-UTF-8 files before a single row is read."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise ImportFileError(f"{path.name}: the file is empty")
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            raise ImportFileError(
                f"{path.name}: this is {what}, not a text file; export it as "
                "UTF-8 CSV or JSON lines"
            )
    if b"\x00" in head:
        raise ImportFileError(f"{path.name}: binary content (NUL bytes), not a text file")
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        hint = " (it looks like GBK/GB18030)" if _decodes_as_gbk(head) else ""
        raise ImportFileError(f"{path.name}: not UTF-8 text{hint}; save it as UTF-8") from None


def _decodes_as_gbk(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("gb18030")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _check_names(name: str, kind: Kind, names: list[str], what: str) -> None:
    spec = COLUMNS[kind]
    missing = [c for c in spec.required if c not in names]
    unknown = sorted(set(names) - spec.all)
    dupes = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing required {what} {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {what} {', '.join(unknown)}")
    if dupes:
        problems.append(f"repeated {what} {', '.join(dupes)}")
    if not problems:
        return
    other = likely_kind(set(names))
    hint = f"; this looks like a {other} file" if other and other != kind else ""
    raise ImportFileError(
        f"{name}: not a {kind} file: {'; '.join(problems)}{hint} "
        f"(expected {', '.join(spec.required + spec.optional)})"
    )


def _csv_rows(lines: Iterator[str], name: str, kind: Kind) -> Iterator[RawRow]:
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError(f"{name}: the file is empty")
        names = [h.strip().lower() for h in header]
        if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
            raise ImportFileError(
                f"{name}: the header is one column; CSV files must be "
                "comma-separated (this one seems to use ';' or tabs)"
            )
        _check_names(name, kind, names, "column")
        start = reader.line_num + 1
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != len(names):
                yield RawRow(line, {}, f"expected {len(names)} fields, found {len(fields)}")
                continue
            yield RawRow(line, {n: (v.strip() or None) for n, v in zip(names, fields, strict=True)})
    except csv.Error as exc:
        raise ImportFileError(
            f"{name}: unreadable CSV near line {reader.line_num}: {exc}"
        ) from None


def _json_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value) or None
    raise TypeError(type(value).__name__)


def _jsonl_rows(lines: Iterator[str], name: str, kind: Kind) -> Iterator[RawRow]:
    first = True
    for line, text in enumerate(lines, start=1):
        if text.strip():
            yield _json_row(name, kind, line, text, first)
            first = False
    if first:
        raise ImportFileError(f"{name}: the file is empty")


def _json_row(name: str, kind: Kind, line: int, text: str, first: bool) -> RawRow:
    """The record on one line; the first record also vouches for the file as a whole."""
    try:
        obj = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        if first:
            raise ImportFileError(
                f"{name}: not JSON lines: line {line} is not valid JSON ({exc.msg})"
            ) from None
        return RawRow(line, {}, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(obj, dict):
        if first:
            raise ImportFileError(f"{name}: not JSON lines: line {line} is not a JSON object")
        return RawRow(line, {}, "not a JSON object")
    keys = [str(k).strip().lower() for k in obj]
    if first:
        _check_names(name, kind, keys, "field")
    unknown = sorted(set(keys) - COLUMNS[kind].all)
    if unknown:
        return RawRow(line, {}, f"unknown field(s) {', '.join(unknown)}")
    try:
        values = {k: _json_value(v) for k, v in zip(keys, obj.values(), strict=True)}
    except TypeError as exc:
        return RawRow(line, {}, f"a value is a JSON {exc}, expected text, number or boolean")
    return RawRow(line, values)
