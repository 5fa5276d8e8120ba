"""Sandboxed rendering: allowed templates render, injection attempts are rejected up front."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from content.render import ALLOWED_VARIABLES, TemplateError, render_message, validate_template
from content.sandbox import make_environment, template_variables

VARS = {
    "honorific": "张女士",
    "campaign_name": "春季焕新",
    "city": "上海",
    "coupon_code": "SPRING50",
    "end_time": "3月31日24:00",
}


def test_renders_subject_and_body() -> None:
    msg = render_message(
        "{{ campaign_name }}",
        "{{ honorific }}您好，{{ city }}门店券{{ coupon_code }}，截止{{ end_time }}。拒收请回复R",
        VARS,
    )
    assert msg.subject == "春季焕新"
    assert msg.body == "张女士您好，上海门店券SPRING50，截止3月31日24:00。拒收请回复R"


def test_subject_none_stays_none_and_safe_constructs_work() -> None:
    body = (
        "{% if coupon_code %}券{{ coupon_code | upper }}{% else %}无券{% endif %}"
        "{{ member_level | default('会员') }}{{ ' / ' ~ city if city is defined else '' }}"
    )
    assert validate_template(body) == []
    msg = render_message(None, body, {"coupon_code": "ab1", "city": "杭州"})
    assert msg == type(msg)(subject=None, body="券AB1会员 / 杭州")


def test_no_autoescape_for_text_channels() -> None:
    assert render_message(None, "{{ home_store }}", {"home_store": "A&B <店>"}).body == "A&B <店>"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ''.__class__ }}", "attribute access ('.__class__')"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "a function or method call"),
        ("{{ cycler.__init__.__globals__ }}", "attribute access ('.__globals__')"),
        ("{% import 'os' as os %}", "{% import %}"),
        ("{% from 'x' import y %}", "{% from … import %}"),
        ("{% include 'secrets.txt' %}", "{% include %}"),
        ("{% extends 'base' %}", "{% extends %}"),
        ("{{ honorific.upper() }}", "a function or method call"),
        ("{{ honorific['__class__'] }}", "item access"),
        ("{{ city | attr('__class__') }}", "filter 'attr'"),
        ("{{ lipsum() }}", "a function or method call"),
        ("{{ 'a' * 1000000000 }}", "arithmetic"),
        ("{% for c in city %}{{ c }}{% endfor %}", "{% for %}"),
        ("{% set x = city %}", "{% set %}"),
        ("{% macro m() %}{% endmacro %}", "{% macro %}"),
        ("{% filter upper %}x{% endfilter %}", "{% filter %}"),
        ("{{ city | map('upper') }}", "filter 'map'"),
        ("{{ city is callable }}", "test 'callable'"),
        ("{{ city < 'b' }}", "comparison 'lt'"),
    ],
)
def test_injection_rejected_at_validation(template: str, expected: str) -> None:
    problems = validate_template(template)
    assert problems, template
    assert any(expected in p for p in problems), problems
    with pytest.raises(TemplateError) as info:
        render_message(None, template, VARS)
    assert any(expected in p for p in info.value.problems)


@pytest.mark.parametrize("name", ["phone", "email", "name", "id_number", "customer_id", "cycler"])
def test_variables_outside_allow_list_rejected(name: str) -> None:
    assert name not in ALLOWED_VARIABLES
    assert validate_template("您好 {{ " + name + " }}") == [
        f"line 1: variable '{name}' is not allowed (allowed: "
        + ", ".join(sorted(ALLOWED_VARIABLES))
        + ")"
    ]


def test_syntax_error_reports_line() -> None:
    problems = validate_template("第一行\n第二行 {{ city ")
    assert len(problems) == 1 and problems[0].startswith("line 2: syntax error")


def test_problems_carry_their_lines() -> None:
    problems = validate_template("{{ city }}\n{{ phone }}\n\n{{ city.x }}")
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 4"]


def test_missing_variable_is_a_clear_error() -> None:
    expected = r"body: a variable has no value \('city' is undefined\)"
    with pytest.raises(TemplateError, match=expected):
        render_message(None, "{{ city }}", {"honorific": "王先生"})


def test_extra_or_non_string_variables_rejected() -> None:
    with pytest.raises(TemplateError, match="not in the allow-list: phone"):
        render_message(None, "{{ city }}", {"city": "上海", "phone": "13800138000"})
    with pytest.raises(TemplateError, match="must be strings: city"):
        render_message(None, "{{ city }}", {"city": 5})  # type: ignore[dict-item]


def test_error_names_the_part() -> None:
    with pytest.raises(TemplateError, match=r"^subject: "):
        render_message("{{ x.y }}", "ok", {})


def test_oversized_template_rejected() -> None:
    assert "limit is" in validate_template("x" * 10_001)[0]


def test_sandbox_is_a_second_line_of_defence() -> None:
    env = make_environment()
    assert env.globals == {}
    for template in ("{{ ''.__class__ }}", "{{ cycler }}", "{{ range(10) }}"):
        with pytest.raises((SecurityError, UndefinedError)):
            env.from_string(template).render()


def test_template_variables() -> None:
    assert template_variables("{{ city }}{% if coupon_code %}{{ end_time }}{% endif %}") == {
        "city",
        "coupon_code",
        "end_time",
    }
    assert template_variables("{{ broken") == frozenset()


@pytest.mark.parametrize(
    "template", ["{{ city|truncate(1) }}", "{{ city|upper(1) }}", "{{ city|truncate('a') }}"]
)
def test_bad_filter_arguments_are_template_errors(template: str) -> None:
    with pytest.raises(TemplateError, match=r"^body: cannot render \("):
        render_message(None, template, {"city": "上海市浦东新区"})


def test_list_literals_allowed_in_conditions() -> None:
    body = "{% if city in ['上海', '杭州'] %}华东{% else %}其他{% endif %}"
    assert render_message(None, body, {"city": "杭州"}).body == "华东"
