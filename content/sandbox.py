"""The template language operators may use, and the static check that enforces it.

Templates are parsed (never compiled or run) and their syntax tree is checked against an
allow-list of node types, variable names, filters and tests, so `{{ ''.__class__ }}`,
`{% import %}` or a call is rejected when the campaign is validated, not at send time.
The sandboxed environment used for rendering is a second line of defence.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

MAX_TEMPLATE_LENGTH = 10_000

ALLOWED_VARIABLES: frozenset[str] = frozenset(
    {
        "honorific",  # family name + 先生/女士, e.g. 张女士 — never the full name
        "member_level",
        "city",
        "home_store",
        "campaign_name",
        "unsubscribe_url",
        "coupon_code",
        "end_time",
    }
)
SAFE_FILTERS: frozenset[str] = frozenset({"default", "d", "trim", "upper", "lower", "truncate"})
SAFE_TESTS: frozenset[str] = frozenset({"defined", "undefined", "none", "string"})
_SAFE_COMPARISONS = frozenset({"eq", "ne", "in", "notin"})

# Pure data and control flow only: no attribute/item access, calls, arithmetic, assignments,
# loops, macros, blocks, imports or includes.
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
    nodes.Filter,
    nodes.Test,
    nodes.Keyword,
    nodes.List,
    nodes.Tuple,
)

_DESCRIBE: dict[type[nodes.Node], str] = {
    nodes.Getattr: "attribute access",
    nodes.Getitem: "item access",
    nodes.Call: "a function or method call",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Include: "{% include %}",
    nodes.Extends: "{% extends %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.For: "{% for %}",
    nodes.With: "{% with %}",
    nodes.Block: "{% block %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.BinExpr: "arithmetic",
    nodes.UnaryExpr: "arithmetic",
}


def make_environment() -> SandboxedEnvironment:
    """A sandbox with no globals (no range/cycler/joiner/lipsum), strict undefined, no escaping."""
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, auto_reload=False
    )
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    env.tests = {name: env.tests[name] for name in SAFE_TESTS}
    return env


_PARSER = make_environment()


def _describe(node: nodes.Node) -> str:
    for kind, text in _DESCRIBE.items():
        if isinstance(node, kind):
            return text
    return f"'{type(node).__name__}'"


def _node_problem(node: nodes.Node) -> str | None:
    if not isinstance(node, _ALLOWED_NODES):
        what = _describe(node)
        if isinstance(node, nodes.Getattr):
            what += f" ('.{node.attr}')"
        return f"{what} is not allowed in templates"
    if isinstance(node, nodes.Name) and node.name not in ALLOWED_VARIABLES:
        allowed = ", ".join(sorted(ALLOWED_VARIABLES))
        return f"variable '{node.name}' is not allowed (allowed: {allowed})"
    if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
        return f"filter '{node.name}' is not allowed (allowed: {', '.join(sorted(SAFE_FILTERS))})"
    if isinstance(node, nodes.Test) and node.name not in SAFE_TESTS:
        return f"test '{node.name}' is not allowed (allowed: {', '.join(sorted(SAFE_TESTS))})"
    if isinstance(node, nodes.Operand) and node.op not in _SAFE_COMPARISONS:
        return f"comparison '{node.op}' is not allowed (use ==, !=, in, not in)"
    if isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
        return f"*args/**kwargs in '{node.name}' are not allowed"
    if isinstance(node, nodes.Const) and not isinstance(node.value, str | int | bool | None):
        return f"constant {node.value!r} is not allowed"
    return None


def validate_template(text: str) -> list[str]:
    """Every problem with a template, each prefixed with its line; empty when it is safe."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        return [f"template is {len(text)} characters, the limit is {MAX_TEMPLATE_LENGTH}"]
    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: syntax error: {exc.message}"]
    problems: list[tuple[int, str]] = []
    stack: list[nodes.Node] = [tree]
    while stack:
        node = stack.pop()
        problem = _node_problem(node)
        if problem is not None:
            problems.append((getattr(node, "lineno", 1) or 1, problem))
            continue  # one problem per offending subtree is enough
        stack.extend(node.iter_child_nodes())
    unique = sorted(set(problems))
    return [f"line {line}: {message}" for line, message in unique]


@lru_cache(maxsize=512)
def template_variables(text: str) -> frozenset[str]:
    """Names of the variables a template uses (empty if it does not parse); cached by text, as
    the send path asks once per message."""
    try:
        return frozenset(meta.find_undeclared_variables(_PARSER.parse(text)))
    except TemplateSyntaxError:
        return frozenset()
