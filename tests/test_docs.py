"""The documents in docs/ are what the code cites: every cited path and anchor exists, every
rule id the code uses is in the rule list, and nothing cites a document outside the repository."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.catalogue import NOT_IMPLEMENTED, NOT_IN_CHECK, Listed
from compliance.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RULES_DOC = DOCS / "compliance-rules.md"
SKIP_DIRS = {
    ".git",
    ".venv",
    "var",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "htmlcov",
}
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".sh", ".html"}
TEXT_NAMES = {"Makefile", "Dockerfile"}

CITED_DOC = re.compile(r"docs/([\w./-]+?\.md)(?:#([\w-]+))?")
MD_LINK = re.compile(r"\]\(([^()\s#]*\.md)?(?:#([^()\s]+))?\)")
RULE_ID = re.compile(r"(?<![\w-])(?:CN|INT|OPS)-\d{2}(?!\d)")
# Citations of documents that are not in the repository (spelled in two parts, so that this
# file does not match itself).
FOREIGN = [
    re.compile("SPEC " + "§"),
    re.compile(r"(?<!docs/)compliance-rules\.md"),
    re.compile(r"\bseed " + r"00\d"),
]


def _files(suffixes: set[str] = TEXT_SUFFIXES) -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts[:-1]):
            continue
        if path.is_file() and (path.suffix in suffixes or path.name in TEXT_NAMES):
            yield path


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"#{1,6}\s+(.+?)\s*#*\s*$", line)
        if m:
            slug, n = _slug(m.group(1)), 0
            while (slug if n == 0 else f"{slug}-{n}") in found:
                n += 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def _check(target: Path, anchor: str | None, where: str) -> list[str]:
    if not target.is_file():
        return [f"{where}: {target.relative_to(ROOT)} does not exist"]
    if anchor and anchor not in _anchors(target):
        return [f"{where}: no heading #{anchor} in {target.relative_to(ROOT)}"]
    return []


def _where(path: Path, text: str, at: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, at) + 1}"


def test_docs_exist() -> None:
    for name in ("architecture.md", "lifecycle.md", "compliance-rules.md"):
        assert (DOCS / name).is_file(), name


def test_cited_documents_and_anchors_exist() -> None:
    problems: list[str] = []
    for path in _files():
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in CITED_DOC.finditer(text):
            problems += _check(DOCS / m.group(1), m.group(2), _where(path, text, m.start()))
        if path.suffix == ".md" and (path.parent == DOCS or path == ROOT / "README.md"):
            for m in MD_LINK.finditer(text):
                target = (path.parent / m.group(1)).resolve() if m.group(1) else path
                if target.suffix == ".md":
                    problems += _check(target, m.group(2), _where(path, text, m.start()))
    assert not problems, "\n".join(problems)


NOT_YET = "## Not implemented yet"


def _row_ids(text: str) -> set[str]:
    return set(re.findall(r"^\| ((?:CN|INT|OPS)-\d{2}(?:\.\w+)?) \|", text, re.MULTILINE))


def _documented_ids() -> set[str]:
    return _row_ids(RULES_DOC.read_text(encoding="utf-8"))


def _implemented_and_not_yet() -> tuple[set[str], set[str]]:
    implemented, _, not_yet = RULES_DOC.read_text(encoding="utf-8").partition(NOT_YET)
    return _row_ids(implemented), _row_ids(not_yet)


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_every_registered_rule_has_a_row(rule_id: str) -> None:
    implemented, not_yet = _implemented_and_not_yet()
    assert rule_id in implemented, f"{rule_id} has no row in docs/compliance-rules.md"
    assert rule_id not in not_yet, f"{rule_id} is registered but listed as not implemented"


@pytest.mark.parametrize("listed", NOT_IN_CHECK, ids=lambda listed: listed.rule_id)
def test_the_report_says_of_each_unchecked_rule_what_the_page_says(listed: Listed) -> None:
    implemented, not_yet = _implemented_and_not_yet()
    missing = listed.status == NOT_IMPLEMENTED
    assert listed.rule_id in (not_yet if missing else implemented), listed.rule_id
    assert listed.rule_id not in (implemented if missing else not_yet), listed.rule_id


def test_every_rule_id_the_code_cites_is_documented() -> None:
    documented = {i.split(".")[0] for i in _documented_ids()}
    missing: list[str] = []
    for path in _files({".py", ".yaml", ".yml", ".md"}):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {"docs", "tests"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in RULE_ID.finditer(text):
            if m.group() not in documented:
                missing.append(f"{_where(path, text, m.start())}: {m.group()}")
    assert not missing, "rule ids missing from docs/compliance-rules.md:\n" + "\n".join(missing)


def test_nothing_cites_documents_outside_the_repository() -> None:
    found: list[str] = []
    for path in _files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "docs" or path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in FOREIGN:
            for m in pattern.finditer(text):
                found.append(f"{_where(path, text, m.start())}: {m.group()!r}")
    assert not found, "citations of documents not in the repository:\n" + "\n".join(found)
