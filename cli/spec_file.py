"""Reading a campaign spec file: YAML or JSON, relative times resolved, every problem named.

A spec file is operator input but may come from anywhere, so reading it is bounded: aliases,
nesting and alias expansion are capped while the YAML is composed (before any object is
built), and every value echoed back in an error is cut short.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.error import MarkedYAMLError
from yaml.nodes import MappingNode, Node, SequenceNode

from cli.errors import OperatorError
from models.durations import resolve_relative
from models.spec import CampaignSpec

BAD_SPEC = 2
MAX_ALIASES = 20  # anchors save repeating a body or two; billion-laughs needs many more
MAX_NESTING = 64  # YAML/JSON levels; the audience filter has its own, lower limit
MAX_EXPANDED = 100_000  # values once aliases are expanded; a real spec has a few hundred
MAX_PROBLEMS = 20
SHOWN = 80  # characters of an echoed value
MESSAGE = 240  # characters of a message that may quote a value


def cut(text: str, limit: int = SHOWN) -> str:
    """`text` cut to `limit` characters with an ellipsis: errors echo values, not megabytes."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SpecRefused(MarkedYAMLError):
    """Well-formed YAML refused for its shape (aliases, nesting), not for its syntax."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _expanded_size(root: Node) -> int:
    """Nodes in the document once every alias is expanded, counted over the node graph
    without expanding it (and without recursion); an alias cycle counts as too many."""
    too_many = MAX_EXPANDED + 1
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_.discard(key)
            sizes[key] = min(too_many, 1 + sum(sizes[id(c)] for c in _children(node)))
        elif key in open_:
            return too_many
        elif key not in sizes:
            open_.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and nesting while composing: a billion-laughs spec
    once took 1 GB and passed, and a deep one ended in RecursionError."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                # The stub's start_mark also admits libyaml's Mark; the pure-Python loader
                # makes yaml.error.Mark, and MarkedYAMLError only formats it either way.
                raise SpecRefused(
                    problem=f"uses more than {MAX_ALIASES} aliases (the limit)",
                    problem_mark=event.start_mark,  # type: ignore[arg-type]
                )
        if self._depth >= MAX_NESTING:
            raise SpecRefused(
                problem=f"nests deeper than {MAX_NESTING} levels (the limit)",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        try:
            # The stub says int; PyYAML passes the key node as `index` inside mappings.
            node: Node | None = super().compose_node(parent, index)  # type: ignore[arg-type]
            return node
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node: Node | None = super().get_single_node()
        if node is not None and _expanded_size(node) > MAX_EXPANDED:
            raise SpecRefused(
                problem=f"expands to more than {MAX_EXPANDED} values through aliases (the limit)",
                problem_mark=node.start_mark,
            )
        return node


def _nesting(doc: Any) -> int:
    """How deep lists and mappings nest in a parsed document, counted without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                break
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return deepest


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OperatorError(f"{path}: no such file", BAD_SPEC) from None
    except UnicodeDecodeError:
        raise OperatorError(f"{path}: not UTF-8 text", BAD_SPEC) from None
    too_deep = f"{path}: nests deeper than {MAX_NESTING} levels (the limit)"
    try:
        if path.suffix.lower() == ".json":
            doc = json.loads(text)
            if _nesting(doc) > MAX_NESTING:
                raise OperatorError(too_deep, BAD_SPEC)
            return doc
        return yaml.load(text, Loader=_SpecLoader)  # a SafeLoader subclass: plain data only
    except json.JSONDecodeError as exc:
        raise OperatorError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}", BAD_SPEC
        ) from None
    except RecursionError:
        raise OperatorError(too_deep, BAD_SPEC) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        kind = "refused" if isinstance(exc, SpecRefused) else "invalid YAML"
        raise OperatorError(f"{where}: {kind}: {cut(problem, MESSAGE)}", BAD_SPEC) from None
    except (ValueError, OverflowError) as exc:  # e.g. a 5,000-digit number, month 13
        raise OperatorError(
            f"{path}: unreadable value: {cut(str(exc), MESSAGE)}", BAD_SPEC
        ) from None


def _place(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{cut(part)}" if out else cut(part))
    return out or "(top level)"


def format_errors(path: Path, exc: ValidationError) -> str:
    errors = exc.errors()
    lines = [f"{path}: the campaign spec has {exc.error_count()} problem(s):"]
    for err in errors[:MAX_PROBLEMS]:
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {cut(repr(value))})"
        lines.append(f"  - {_place(err['loc'])}: {cut(err['msg'], MESSAGE)}{shown}")
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"  … and {len(errors) - MAX_PROBLEMS} more")
    return "\n".join(lines)


def load_spec_file(path: Path, now: datetime) -> CampaignSpec:
    """Parse and validate; relative window times like '+2m' are resolved against `now`, and
    a window already over is refused (nothing could be sent in it)."""
    doc = _parse(path)
    if not isinstance(doc, dict):
        raise OperatorError(
            f"{path}: a campaign spec is a mapping of fields, got {type(doc).__name__}", BAD_SPEC
        )
    window = doc.get("send_window")
    try:
        if isinstance(window, dict):
            doc["send_window"] = {k: resolve_relative(v, now) for k, v in window.items()}
        spec = CampaignSpec.model_validate(doc)
    except ValidationError as exc:
        raise OperatorError(format_errors(path, exc), BAD_SPEC) from None
    except OverflowError as exc:  # '+99999999999d', a deadline of millions of years
        raise OperatorError(
            f"{path}: a duration or time is out of range ({exc})", BAD_SPEC
        ) from None
    except ValueError as exc:
        raise OperatorError(f"{path}: {cut(str(exc), MESSAGE)}", BAD_SPEC) from None
    if spec.schedule is not None:  # each run's window starts at its scheduled time
        until = spec.schedule.until
        if until is not None and until <= now:
            raise OperatorError(
                f"{path}: schedule.until {until.isoformat()} is already past: no run would start",
                BAD_SPEC,
            )
        return spec
    end = spec.send_window.end
    if end <= now:
        raise OperatorError(
            f"{path}: send_window.end {end.isoformat()} is already past "
            f"(now {now.isoformat(timespec='seconds')}): nothing could be sent",
            BAD_SPEC,
        )
    return spec
