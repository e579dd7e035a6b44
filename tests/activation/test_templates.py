"""Templates: personalisation, escaping, and clear errors before anything is sent."""

from __future__ import annotations

import pytest

from jingzhun.activation import MessageTemplate, TemplateError, TemplateSet, deliver
from jingzhun.activation.connectors import FileConnector
from tests.activation.conftest import EMAIL, SMS, duckdb_warehouse, fields, hours, plan

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def warehouse(tmp_path):
    """DuckDB only: the engine is not the subject here (test_consent runs deliver on both engines)."""
    yield from duckdb_warehouse(tmp_path)


def context(**extra):
    return {"profile": {"city": "Chengdu", "first_order": None}, "offer": {"title": "A & B <sale>", "url": "https://x.example"},
            "recommendations": [{"name": "Tea", "url": "https://x.example/tea"}], "track": lambda u: f"T({u})", "unsubscribe_url": "U",
            "pixel_url": "P", **extra}


def test_fields_offer_and_recommendations_fill_in_with_html_escaped_and_text_not():
    out = TemplateSet([EMAIL]).render("spring_email", context())
    assert out.subject == "A & B <sale> for you in Chengdu"
    assert out.text.startswith("Hello from Chengdu!\nA & B <sale>: T(https://x.example)\n- Tea T(https://x.example/tea)\n")
    assert ">A &amp; B &lt;sale&gt;</a>" in out.html and "<li>Tea</li>" in out.html


def test_a_missing_field_names_the_template_the_part_and_the_field():
    with pytest.raises(TemplateError) as err:
        TemplateSet([EMAIL]).render("spring_email", context(profile={"first_order": None}))
    assert err.value.template == "spring_email" and err.value.part == "subject" and err.value.field == "city"
    assert str(err.value).startswith("template 'spring_email', subject: field 'city' is missing")


def test_a_missing_top_level_name_is_named_too():
    t = MessageTemplate("t", "sms", text="{{ coupon_code }}")
    with pytest.raises(TemplateError, match="field 'coupon_code' is missing") as err:
        TemplateSet([t]).render("t", context())
    assert err.value.field == "coupon_code" and err.value.part == "text"


def test_a_syntax_error_is_reported_with_its_line_when_the_set_is_made():
    t = MessageTemplate("broken", "sms", text="Hello\n{{ offer.title }\n")
    with pytest.raises(TemplateError, match=r"template 'broken', text: line 2"):
        TemplateSet([t])


def test_the_sandbox_refuses_python_internals():
    for source in ("{{ track.__globals__ }}", "{{ ''.__class__.__mro__ }}"):
        with pytest.raises(TemplateError, match="template 'nosy', text: not allowed in a template: access to attribute"):
            TemplateSet([MessageTemplate("nosy", "sms", text=source)]).render("nosy", context())
    unsafe = MessageTemplate("unsafe", "sms", text="{{ profile.update({'city': 'x'}) }}")
    with pytest.raises(TemplateError, match="not allowed"):
        TemplateSet([unsafe]).render("unsafe", context())


@pytest.mark.parametrize("template, message", [
    (MessageTemplate("e", "email", subject="Hi", text="no way out"), "unsubscribe link"),
    (MessageTemplate("e", "email", text="{{ unsubscribe_url }}"), "needs subject"),
    (MessageTemplate("e", "email", subject="Hi"), "text or html"),
    (MessageTemplate("s", "sms", subject="only a subject"), "needs text"),
    (MessageTemplate("f", "fax", text="x"), "unknown channel 'fax'"),
])
def test_a_template_that_cannot_serve_its_channel_is_refused(template, message):
    with pytest.raises(TemplateError, match=message):
        TemplateSet([template])


def test_unknown_template_and_duplicate_names():
    with pytest.raises(TemplateError, match="no such template .*spring_sms"):
        TemplateSet([SMS]).render("autumn", context())
    with pytest.raises(TemplateError, match="two templates have this name"):
        TemplateSet([SMS, SMS])


def test_deliver_renders_everything_first_so_a_bad_row_sends_nothing(warehouse, population, links, tmp_path):
    population.add(3)
    population.consent([(i, "phone", "sms", "granted", hours(-1)) for i in range(3)])
    templates = TemplateSet([MessageTemplate("code", "sms", text="{{ offer.title }}: {{ offer.code }}")])
    offers = plan([0, 1, 2], channel="sms", template="code")
    offers["offer"] = [{"title": "10% off", "code": "A1"}, {"title": "10% off", "code": "A2"}, {"title": "10% off"}]
    with pytest.raises(TemplateError, match="field 'code' is missing"):
        deliver(warehouse, offers, templates=templates, links=links, fields=fields(warehouse, 3),
                connectors={"sms": FileConnector(tmp_path / "out", "smsvendor")}, clock=lambda: hours(0).to_pydatetime())
    assert warehouse.count("deliveries") == 0
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
