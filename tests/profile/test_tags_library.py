"""Tag files: every kind of bad YAML gives an error naming the file, line, tag and field; overrides,
cycles, inactive built-in tags; and the built-in library itself."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
import yaml

from jingzhun.profile.tags import BUILTIN_DIR, FAMILIES, TagDefinitionError, load_library, read_tag_file
from jingzhun.profile.tags.library import static_catalog
from jingzhun.sim.catalogue import CATEGORY_NAMES

HEAD = """\
  - name: {name}
    family: consumption
    label: {{zh: 标签, en: Tag}}
    description: {{zh: 说明, en: Description}}
"""


def tag(name: str = "t1", body: str = 'rule: "frequency >= 1"') -> str:
    return HEAD.format(name=name) + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ")


def write(tmp_path, *tags: str, name: str = "mine.yaml", raw: str | None = None):
    path = tmp_path / name
    path.write_text(raw if raw is not None else "tags:\n" + "".join(tags), encoding="utf-8")
    return path


def load(tmp_path, *tags: str, raw: str | None = None, **kw):
    return load_library(files=[write(tmp_path, *tags, raw=raw)], builtin=False, **kw)


def error(tmp_path, *tags: str, raw: str | None = None, **kw) -> TagDefinitionError:
    with pytest.raises(TagDefinitionError) as info:
        load(tmp_path, *tags, raw=raw, **kw)
    return info.value


# -- the file --------------------------------------------------------------------------------------------
def test_not_yaml(tmp_path):
    e = error(tmp_path, raw="tags:\n  - name: a\n    rule: [unclosed\n")
    assert e.file.endswith("mine.yaml") and e.line == 4 and "not valid YAML" in str(e)


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("tags:\n  - name: 标签\n".encode("gb18030"))
    with pytest.raises(TagDefinitionError, match="not UTF-8"):
        read_tag_file(path)


@pytest.mark.parametrize("raw, words", [
    ("- name: a\n", "mapping with a 'tags:' list"),
    ("tags: 3\n", "must be a list"),
    ("tag:\n  - name: a\n", "unknown top-level key"),
    ("tags:\n  - just text\n", "each tag is a mapping"),
])
def test_file_shape(tmp_path, raw, words):
    assert words in str(error(tmp_path, raw=raw))


# -- fields ----------------------------------------------------------------------------------------------
def test_unknown_field_with_suggestion_and_line(tmp_path):
    e = error(tmp_path, tag("a", 'ruel: "frequency >= 1"'))
    assert (e.tag, e.field, e.line) == ("a", "ruel", 6)
    assert "did you mean 'rule'" in str(e) and "mine.yaml line 6, tag 'a', field 'ruel'" in str(e)


def test_missing_english_label(tmp_path):
    raw = "tags:\n  - name: a\n    family: basic\n    label: {zh: 标签}\n    description: {zh: a, en: b}\n" \
          "    rule: 'frequency >= 1'\n"
    e = error(tmp_path, raw=raw)
    assert e.field == "label.en" and "Chinese and English" in str(e)


def test_unknown_family(tmp_path):
    raw = tag("a").replace("family: consumption", "family: intrests")
    e = error(tmp_path, raw)
    assert e.field == "family" and "did you mean 'interests'" in str(e)


@pytest.mark.parametrize("name", ["HighValue", "高价值", "1st", "a-b"])
def test_bad_names(tmp_path, name):
    e = error(tmp_path, tag(name))
    assert e.field == "name" and "not a tag name" in str(e) and "label.zh" in str(e)


def test_exactly_one_definition(tmp_path):
    both = error(tmp_path, tag("a", 'rule: "frequency >= 1"\nscore: {name: x, cuts: [1], labels: [a, b]}'))
    assert "exactly one of rule, bands or score" in str(both) and "rule and score" in str(both)
    none = error(tmp_path, tag("a", "reason: hello"))
    assert "has none" in str(none)


def test_reason_must_be_text(tmp_path):
    e = error(tmp_path, tag("a", 'rule: "frequency >= 1"\nreason: 5'))
    assert e.field == "reason" and "template" in str(e)


@pytest.mark.parametrize("bands, words", [
    ("{feature: frequency, cuts: [2, 1], labels: [a, b, c]}", "must increase strictly"),
    ("{feature: frequency, cuts: [1, 1], labels: [a, b, c]}", "must increase strictly"),
    ("{feature: frequency, cuts: [1, 2], labels: [a, b]}", "one label per band"),
    ("{feature: frequency, quantiles: [0.5, 1.0], labels: [a, b, c]}", "strictly between 0 and 1"),
    ("{feature: frequency, cuts: [1], quantiles: [0.5], labels: [a, b]}", "not both"),
    ("{feature: frequency, labels: [a]}", "not neither"),
    ("{feature: frequency, cuts: [1], labels: [null, null]}", "every label is null"),
    ("{feature: frequency, cuts: [1], labels: [a, a]}", "labels repeat"),
    ("{feature: frequency, cuts: [], labels: [a]}", "empty"),
])
def test_bad_bands(tmp_path, bands, words):
    e = error(tmp_path, tag("a", f"bands: {bands}"))
    assert e.field == "bands" and words in str(e)


# -- expressions and names, checked against the catalogue ---------------------------------------------------
def test_rule_syntax_error_shows_where(tmp_path):
    e = error(tmp_path, tag("a", 'rule: "frequency >= 1 and"'))
    assert e.field == "rule" and "^" in str(e) and e.line == 6


def test_unknown_field_in_rule(tmp_path):
    e = error(tmp_path, tag("a", 'rule: "frequncy >= 1"'))
    assert e.field == "rule" and "did you mean 'frequency'" in str(e)


def test_unknown_tag_in_rule(tmp_path):
    e = error(tmp_path, tag("big", 'rule: "monetary_total > 1"'), tag("a", "rule: \"tag('bgi')\""))
    assert e.tag == "a" and "unknown tag 'bgi'" in str(e) and "did you mean 'big'" in str(e)


def test_type_error_in_rule(tmp_path):
    assert "frequency is number" in str(error(tmp_path, tag("a", "rule: \"frequency > 'x'\"")))


def test_bands_need_a_known_number_field(tmp_path):
    e = error(tmp_path, tag("a", "bands: {feature: monetery_total, cuts: [1], labels: [a, b]}"))
    assert e.field == "bands.feature" and "did you mean 'monetary_total'" in str(e) and e.line == 6
    e = error(tmp_path, tag("a", "bands: {feature: city, cuts: [1], labels: [a, b]}"))
    assert "city is string: bands cut a number" in str(e)


def test_where_is_checked(tmp_path):
    e = error(tmp_path, tag("a", "bands: {feature: frequency, cuts: [1], labels: [a, b], where: 'agee > 3'}"))
    assert e.field == "bands.where" and "did you mean 'age'" in str(e)


@pytest.mark.parametrize("reason, field, words", [
    ("'{frequncy} orders'", "reason", "did you mean 'frequency'"),
    ("{zh: '{city:.2f}', en: ok}", "reason.zh", "city is string and takes no format"),
    ("'{frequency:,d}'", "reason", "takes '.2f' (decimals) or '.0%' (percentage)"),
    ("'{last_purchase_at}'", "reason", "moment in time"),
    ("'{frequency!r}'", "reason", "conversions are not supported"),
    ("'{frequency'", "reason", "not a reason template"),
    ("'{value}'", "reason", "unknown field {value}"),  # a rule tag has no band value
])
def test_bad_reasons(tmp_path, reason, field, words):
    e = error(tmp_path, tag("a", f'rule: "frequency >= 1"\nreason: {reason}'))
    assert e.field == field and words in str(e)


def test_score_reason_fields(tmp_path):
    lib = load(tmp_path, tag("a", "score: {name: churn_risk, cuts: [0.5], labels: [low, high]}\n"
                                  "reason: 'risk {score:.0%}: {value} ({frequency} orders)'"))
    assert lib["a"].kind == "score" and lib.score_names() == {"churn_risk"}


def test_bare_score_names_resolve_to_declared_scores(tmp_path):
    lib = load(tmp_path, tag("s", "score: {name: churn_risk, cuts: [0.5], labels: [low, high]}"),
               tag("r", 'rule: "churn_risk >= 0.7"'))
    assert "churn_risk" in lib.catalog.scores
    e = error(tmp_path, tag("r", 'rule: "churn_rsk >= 0.7"'))
    assert "unknown field 'churn_rsk'" in str(e)


# -- dependencies ------------------------------------------------------------------------------------------
def test_cycles_are_rejected(tmp_path):
    e = error(tmp_path, tag("a", "rule: \"tag('b')\""), tag("b", "rule: \"tag('c') and frequency > 1\""),
              tag("c", "rule: \"tag('a')\""))
    assert "cycle: a -> b -> c -> a" in str(e)
    self_ref = error(tmp_path, tag("a", "bands: {feature: frequency, cuts: [1], labels: [x, y], where: \"tag('a')\"}"))
    assert "cycle: a -> a" in str(self_ref) and self_ref.field == "bands.where"


def test_levels_follow_dependencies(tmp_path):
    lib = load(tmp_path, tag("top", "rule: \"tag('mid') or tag('base')\""), tag("mid", "rule: \"tag('base')\""),
               tag("base", 'rule: "frequency > 1"'), tag("alone", 'rule: "frequency > 2"'))
    assert lib.levels == (("base", "alone"), ("mid",), ("top",))
    assert lib.names == ("top", "mid", "base", "alone")  # declaration order is kept for display


# -- project tags and the built-in library -------------------------------------------------------------------
def test_project_tags_and_overrides(tmp_path):
    folder = tmp_path / "tags"
    folder.mkdir()
    write(folder, tag("my_vip", 'rule: "monetary_total >= 50000"'), name="a.yaml")
    lib = load_library(project_dir=tmp_path)
    assert "my_vip" in lib and "high_value" in lib and not lib.entry("my_vip").builtin

    write(folder, tag("high_value", 'rule: "monetary_total >= 50000"'), name="b.yaml")
    e = pytest.raises(TagDefinitionError, load_library, project_dir=tmp_path).value
    assert "built-in tag already has this name" in str(e) and "overrides: true" in str(e) and e.file.endswith("b.yaml")

    write(folder, tag("high_value", 'rule: "monetary_total >= 50000"\noverrides: true'), name="b.yaml")
    lib = load_library(project_dir=tmp_path)
    assert lib["high_value"].rule == "monetary_total >= 50000" and not lib.entry("high_value").builtin
    assert lib.names.index("high_value") < lib.names.index("vip_at_risk")  # keeps the built-in's place
    assert lib.dependencies["vip_at_risk"] == ("high_value",)

    write(folder, tag("nothing_here", 'rule: "frequency > 1"\noverrides: true'), name="c.yaml")
    e = pytest.raises(TagDefinitionError, load_library, project_dir=tmp_path).value
    assert "no built-in tag of this name" in str(e) and e.field == "overrides"
    (folder / "c.yaml").unlink()

    write(folder, tag("my_vip", 'rule: "frequency > 1"'), name="d.yaml")
    e = pytest.raises(TagDefinitionError, load_library, project_dir=tmp_path).value
    assert "already used by a tag in" in str(e) and "a.yaml" in str(e)


def test_unknown_category_makes_a_builtin_tag_inactive_and_a_project_tag_fail(tmp_path):
    catalog = dataclasses.replace(static_catalog(), categories=frozenset({"美妆", "服饰"}), events=frozenset())
    lib = load_library(catalog=catalog)
    assert lib.inactive["sports_not_apparel"] == "this warehouse has no category '运动'"
    assert "beauty_not_apparel" not in lib.inactive
    assert "parent" in lib.inactive and "baby_not_home" in lib.inactive
    e = error(tmp_path, tag("a", "rule: \"bought category '运功'\""), catalog=catalog)
    assert "unknown category '运功'" in str(e)


def test_builtin_library():
    lib = load_library()
    assert len(lib) >= 40 and not lib.inactive
    assert {t.family for t in lib} == set(FAMILIES)
    for t in lib:
        assert t.label.zh.strip() and t.label.en.strip() and t.description.zh.strip() and t.description.en.strip()
        assert t.reason is not None, f"{t.name} has no reason template"
    assert lib.score_names() == {"p_alive", "clv_12m", "churn_risk", "p_buy_90d"}
    for name in ("high_value", "price_sensitive", "night_owl", "new_customer", "dormant", "weekend_shopper",
                 "local_regular"):
        assert name in lib
    # "buys A but never B" tags use the simulator's categories
    cross = [t for t in lib if t.rule and "but not category" in t.rule]
    assert len(cross) >= 3
    for t in cross:
        for word in yaml.safe_load(f"[{t.rule.replace('bought category', '').replace('but not category', ',')}]"):
            assert word.strip() in CATEGORY_NAMES
    assert sorted(p.name for p in BUILTIN_DIR.glob("*.yaml"))[0] == "1_basic.yaml"


def test_fingerprint_is_the_meaning():
    lib = load_library()
    t = lib["high_value"]
    same = t.model_copy(update={"rule": "monetary_total>=2000  且 frequency >= 3",
                                "label": t.label.model_copy(update={"en": "VIP"})})
    other = t.model_copy(update={"rule": "monetary_total >= 2500 and frequency >= 3"})
    assert same.fingerprint == t.fingerprint != other.fingerprint
