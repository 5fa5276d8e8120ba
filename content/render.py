"""Rendering a campaign message for one customer, in the sandbox, after static validation.

A template is validated and compiled once (cached by its text), then rendered per customer.
Anything wrong surfaces as `TemplateError` with a readable reason — never a jinja traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import jinja2
from jinja2.exceptions import SecurityError, UndefinedError

from content.sandbox import ALLOWED_VARIABLES, make_environment, validate_template

__all__ = [
    "ALLOWED_VARIABLES",
    "RenderedMessage",
    "TemplateError",
    "render_message",
    "render_text",
    "validate_template",
]


class TemplateError(ValueError):
    """A template or its variables cannot be rendered; `problems` lists every reason."""

    def __init__(self, problems: list[str], part: str = "template") -> None:
        self.problems = problems
        self.part = part
        super().__init__(f"{part}: " + "; ".join(problems))


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None
    body: str


_ENV = make_environment()


@lru_cache(maxsize=512)
def _compiled(text: str) -> jinja2.Template:
    problems = validate_template(text)
    if problems:
        raise TemplateError(problems)
    try:
        return _ENV.from_string(text)
    except jinja2.TemplateError as exc:
        raise TemplateError([f"cannot compile: {exc.message or exc}"]) from None


def _check_variables(variables: Mapping[str, str]) -> dict[str, str]:
    extra = sorted(set(variables) - ALLOWED_VARIABLES)
    if extra:
        raise TemplateError([f"variables not in the allow-list: {', '.join(extra)}"], "variables")
    wrong = sorted(k for k, v in variables.items() if not isinstance(v, str))
    if wrong:
        raise TemplateError([f"variables must be strings: {', '.join(wrong)}"], "variables")
    return dict(variables)


def render_text(text: str, variables: Mapping[str, str], part: str = "template") -> str:
    """Render one template text with allow-listed string variables."""
    context = _check_variables(variables)
    try:
        template = _compiled(text)
    except TemplateError as exc:
        raise TemplateError(exc.problems, part) from None
    try:
        return template.render(context)
    except UndefinedError as exc:
        reason = f"a variable has no value ({exc.message})"
    except SecurityError as exc:
        reason = f"blocked by the sandbox ({exc.message})"
    except jinja2.TemplateError as exc:
        reason = f"cannot render ({exc.message or type(exc).__name__})"
    except Exception as exc:  # a filter given bad arguments: still the template's fault
        reason = f"cannot render ({type(exc).__name__}: {exc or 'invalid arguments'})"
    raise TemplateError([reason], part)


def render_message(subject: str | None, body: str, variables: Mapping[str, str]) -> RenderedMessage:
    """Render a message's subject (if any) and body for one customer."""
    rendered_subject = None if subject is None else render_text(subject, variables, "subject")
    return RenderedMessage(subject=rendered_subject, body=render_text(body, variables, "body"))
