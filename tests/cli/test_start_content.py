"""Content an approver would be asked to approve is checked at `start`: a template that does not
compile or that the content rules block is refused there, with the rule named, nothing started."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_spec_errors import EXAMPLE, run_start

PUSH_BODY = '    body: "{{ honorific }}，春季焕新会员日，{{ home_store }}为您准备了专属礼券，3月31日24:00前有效。"'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('    body: "{{ honorific.__class__ }} 礼券"', "CN-06"),
        ('    body: "{{ phone }}，礼券已到账"', "CN-06"),
        ('    body: "{{ honorific }，礼券已到账"', "CN-06"),
    ],
)
def test_unsafe_content_is_refused_at_start(tmp_path: Path, body: str, expected: str) -> None:
    assert PUSH_BODY in EXAMPLE
    proc = run_start(tmp_path, EXAMPLE.replace(PUSH_BODY, body))
    assert proc.returncode == 2, proc.stderr
    assert "content rules" in proc.stderr and expected in proc.stderr
    assert "cannot reach Temporal" not in proc.stderr, "refused before anything started"
    assert "Traceback" not in proc.stderr
