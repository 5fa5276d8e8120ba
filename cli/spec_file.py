"""Reading a campaign spec file: YAML or JSON, relative times resolved, every problem named."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cli.errors import OperatorError
from models.durations import resolve_relative
from models.spec import CampaignSpec

BAD_SPEC = 2


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OperatorError(f"{path}: no such file", BAD_SPEC) from None
    except UnicodeDecodeError:
        raise OperatorError(f"{path}: not UTF-8 text", BAD_SPEC) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise OperatorError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}", BAD_SPEC
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise OperatorError(f"{where}: invalid YAML: {problem}", BAD_SPEC) from None


def _place(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: the campaign spec has {exc.error_count()} problem(s):"]
    for err in exc.errors():
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        lines.append(f"  - {_place(err['loc'])}: {err['msg']}{shown}")
    return "\n".join(lines)


def load_spec_file(path: Path, now: datetime) -> CampaignSpec:
    """Parse and validate; relative window times like '+2m' are resolved against `now`."""
    doc = _parse(path)
    if not isinstance(doc, dict):
        raise OperatorError(
            f"{path}: a campaign spec is a mapping of fields, got {type(doc).__name__}", BAD_SPEC
        )
    window = doc.get("send_window")
    try:
        if isinstance(window, dict):
            doc["send_window"] = {k: resolve_relative(v, now) for k, v in window.items()}
        return CampaignSpec.model_validate(doc)
    except ValidationError as exc:
        raise OperatorError(format_errors(path, exc), BAD_SPEC) from None
    except ValueError as exc:
        raise OperatorError(f"{path}: {exc}", BAD_SPEC) from None
