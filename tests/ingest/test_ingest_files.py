"""A file that is not what it claims fails with one clear message and imports nothing."""

from __future__ import annotations

import gzip

import pytest

from ingest.run import ImportFileError, import_file

CUSTOMERS = "customer_id,name,phone\nC1,张三,13800138000\nC2,李四,13900139000\n"


def _fails(engine, counts, path, kind="customers", **kwargs) -> str:
    before = counts(engine)
    reject = path.with_name("rejects.csv")
    with pytest.raises(ImportFileError) as info:
        import_file(engine, kind, path, reject_path=reject, **kwargs)
    assert counts(engine) == before
    assert not reject.exists()
    assert not list(path.parent.glob(".rejects.csv.*"))
    return str(info.value)


def test_wrong_columns_name_the_problem(pg, counts, make_file) -> None:
    path = make_file("c.csv", "customer_id,mobile,name\nC1,13800138000,张三\n")
    message = _fails(pg, counts, path)
    assert message.startswith("c.csv: not a customers file: unknown column mobile")


def test_missing_required_column(pg, counts, make_file) -> None:
    path = make_file("o.csv", "order_id,customer_id,amount\nO1,C1,10\n")
    message = _fails(pg, counts, path, kind="orders")
    assert "missing required column ordered_at" in message


def test_file_of_another_kind_is_recognised(pg, counts, make_file) -> None:
    path = make_file("o.csv", "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,10\n")
    message = _fails(pg, counts, path, kind="customers")
    assert "this looks like a orders file" in message


def test_gbk_bytes_are_not_utf8(pg, counts, make_file) -> None:
    path = make_file("c.csv", CUSTOMERS.encode("gbk"))
    message = _fails(pg, counts, path)
    assert message == "c.csv: not UTF-8 text (it looks like GBK/GB18030); save it as UTF-8"


def test_bad_encoding_late_in_the_file_rolls_everything_back(pg, counts, make_file) -> None:
    good = "".join(f"C{i},顾客,1380013{i:04d}\n" for i in range(3000))
    blob = ("customer_id,name,phone\n" + good).encode() + "C9,王五,13800138000\n".encode("gbk")
    path = make_file("c.csv", blob)
    message = _fails(pg, counts, path, chunk_rows=500)
    assert message == "c.csv: not UTF-8 text (invalid bytes on line 3002); save it as UTF-8"


def test_binary_and_archives(pg, counts, make_file) -> None:
    assert "binary content" in _fails(pg, counts, make_file("c.csv", b"\x00\x01\x02abc" * 50))
    assert "ZIP archive" in _fails(pg, counts, make_file("c.csv", b"PK\x03\x04rest"))
    assert "gzip" in _fails(pg, counts, make_file("c.jsonl", gzip.compress(b"{}")))


def test_empty_unknown_type_and_separator(pg, counts, make_file) -> None:
    assert _fails(pg, counts, make_file("c.csv", "")) == "c.csv: the file is empty"
    assert "unsupported file type '.xlsx'" in _fails(pg, counts, make_file("c.xlsx", "x"))
    semi = make_file("c.csv", "customer_id;name\nC1;张三\n")
    assert "must be comma-separated (this one seems to use ';'" in _fails(pg, counts, semi)


def test_jsonl_that_is_not_json(pg, counts, make_file) -> None:
    message = _fails(pg, counts, make_file("c.jsonl", CUSTOMERS))
    assert message.startswith("c.jsonl: not JSON lines: line 1 is not valid JSON")
    wrong = make_file("e.jsonl", '{"customer_id": "C1", "kind": "x"}\n')
    assert "unknown field kind" in _fails(pg, counts, wrong, kind="events")


def test_bom_is_accepted(pg, make_file) -> None:
    path = make_file("c.csv", b"\xef\xbb\xbf" + CUSTOMERS.encode())
    report = import_file(pg, "customers", path)
    assert (report.rows_read, report.inserted, report.rejected) == (2, 2, 0)


def test_unwritable_reject_file_and_unknown_kind(pg, counts, make_file, tmp_path) -> None:
    path = make_file("c.csv", CUSTOMERS)
    with pytest.raises(ImportFileError, match="cannot write the reject file"):
        import_file(pg, "customers", path, reject_path=tmp_path / "missing" / "r.csv")
    with pytest.raises(ImportFileError, match="unknown import kind 'widgets'"):
        import_file(pg, "widgets", path)  # type: ignore[arg-type]
    assert counts(pg)["customers"] == 0
