"""Big files are parsed in a child process: same result as on a thread, errors and early stops
cross back, and nothing is left running."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ingest import prefetch, rows, run
from ingest.batches import Batch
from ingest.columns import Kind
from ingest.run import ImportFileError, import_file

CUSTOMERS = (
    "customer_id,name,phone,tags\n"
    + "".join(f"C{i},顾客{i},1380013{i:04d},{'vip' if i % 3 else ''}\n" for i in range(40))
    + "C40,坏,12345\nC41\n"
)
ORDERS = (
    "order_id,customer_id,ordered_at,amount\n"
    + "".join(
        f"O{i},C{i % 45},2024-0{1 + i % 9}-1{i % 10}T10:00:00+08:00,{i}.5\n" for i in range(90)
    )
    + "O1,C1,2024-05-05,9.99\nO90,C1,not-a-date,-1\n"
)


def _import_all(
    pg: Engine, folder: Path, in_process: bool
) -> tuple[list[dict[str, Any]], list[str], Sequence[Any]]:
    reports, rejects = [], []
    kinds: tuple[tuple[Kind, str], ...] = (("customers", CUSTOMERS), ("orders", ORDERS))
    for kind, content in kinds:
        path = folder / f"{kind}.csv"
        path.write_text(content, encoding="utf-8")
        reject = folder / f"{kind}.{in_process}.rejects.csv"
        report = import_file(
            pg, kind, path, reject_path=reject, chunk_rows=7, in_process=in_process
        )
        reports.append(report.model_dump(exclude={"run_id", "seconds", "reject_file"}))
        rejects.append(reject.read_text(encoding="utf-8"))
    with pg.connect() as conn:
        stored = conn.execute(
            text("""
            SELECT c.external_id, c.phone_index, o.external_id, o.amount, o.ordered_at,
                   (SELECT string_agg(t.tag, ';') FROM customer_tags t WHERE t.customer_id = c.id)
            FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
            ORDER BY c.external_id, o.external_id""")
        ).all()
    return reports, rejects, stored


def _reset(pg: Engine) -> None:
    with pg.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE customers, orders, customer_tags, import_flags, import_runs "
                "RESTART IDENTITY CASCADE"
            )
        )


def test_child_process_imports_exactly_what_the_thread_does(pg, tmp_path) -> None:
    in_child = _import_all(pg, tmp_path, in_process=True)
    _reset(pg)
    on_thread = _import_all(pg, tmp_path, in_process=False)
    assert in_child == on_thread
    reports, rejects, stored = in_child
    # orders of C40–C44 (unknown: C40 and C41 were rejected) and the bad last row are rejected
    # … and so is line 92, the second O1 (a repeated id keeps its first row)
    assert [(r["rows_read"], r["rejected"]) for r in reports] == [(42, 2), (92, 12)]
    assert reports[1]["updated"] == 0
    assert rejects[1].splitlines()[-1].startswith("93,")
    assert len(stored) == 80 and {row[5] for row in stored} == {"vip", None}


def test_an_error_late_in_the_file_reaches_the_caller_and_imports_nothing(
    pg, counts, make_file
) -> None:
    good = "".join(f"C{i},顾客,1380013{i:04d}\n" for i in range(3000))
    blob = ("customer_id,name,phone\n" + good).encode() + "C9,王五,13800138000\n".encode("gbk")
    path = make_file("c.csv", blob)
    with pytest.raises(ImportFileError) as info:
        import_file(pg, "customers", path, chunk_rows=500, in_process=True)
    assert str(info.value) == "c.csv: not UTF-8 text (invalid bytes on line 3002); save it as UTF-8"
    assert set(counts(pg).values()) == {0}
    assert not _readers()


def test_big_files_are_parsed_in_a_child_small_ones_here(
    pg, make_file, tmp_path, monkeypatch
) -> None:
    seen = tmp_path / "parser-pids"
    original = rows.PARSERS["customers"]

    def recording(line, values, now):
        with seen.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return original(line, values, now)

    monkeypatch.setitem(rows.PARSERS, "customers", recording)
    path = make_file("c.csv", CUSTOMERS)
    monkeypatch.setattr(run, "PROCESS_MIN_BYTES", path.stat().st_size + 1)
    import_file(pg, "customers", path)
    assert set(seen.read_text().split()) == {str(os.getpid())}
    seen.unlink()
    monkeypatch.setattr(run, "PROCESS_MIN_BYTES", path.stat().st_size)
    import_file(pg, "customers", path)
    pids = set(seen.read_text().split())
    assert len(pids) == 1 and pids != {str(os.getpid())}


def _readers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "ingest-reader"]


def _endless() -> Iterator[Batch]:
    n = 0
    while True:
        n += 1
        yield Batch(rows=n)


def test_a_consumer_that_stops_early_stops_the_child() -> None:
    batches = prefetch.in_process(_endless)
    assert [next(batches).rows for _ in range(3)] == [1, 2, 3]
    batches.close()
    assert not _readers()


class Unpicklable(Exception):
    def __init__(self, reason: str, handle: object) -> None:
        super().__init__(reason)
        self.handle = handle

    def __reduce__(self):
        raise TypeError("cannot pickle")


def _failing() -> Iterator[Batch]:
    yield Batch(rows=1)
    raise Unpicklable("disk on fire", handle=object())


def test_an_error_that_cannot_cross_arrives_as_its_text() -> None:
    batches = prefetch.in_process(_failing)
    assert next(batches).rows == 1
    with pytest.raises(RuntimeError, match="Unpicklable: disk on fire"):
        next(batches)
    assert not _readers()
