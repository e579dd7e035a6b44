"""Surveys: a deterministic 1% sample, answers checked against the questionnaire, a summary worked by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from jingzhun.activation import Links, TemplateSet, MessageTemplate
from jingzhun.activation.assignment import ArmSplit, assignment_expr, bucket_for
from jingzhun.activation.errors import TokenError
from jingzhun.activation.links import token_from_url
from jingzhun.activation.surveys import (SurveyError, questionnaire_from_dict, record_answers, sample, summary)

from tests.activation.conftest import BASE_URL, SECRET, T0

QUESTIONNAIRE = questionnaire_from_dict({
    "id": "vip-satisfaction",
    "title": {"zh": "会员满意度调查", "en": "Member satisfaction"},
    "questions": [
        {"id": "overall", "kind": "rating", "text": {"zh": "总体满意度", "en": "Overall satisfaction"}},
        {"id": "channel", "kind": "single", "text": {"zh": "您最常在哪里购物？", "en": "Where do you shop most?"},
         "options": [{"id": "store", "text": {"zh": "门店", "en": "In store"}}, {"id": "app", "text": "App"},
                     {"id": "web", "text": "Web"}]},
        {"id": "likes", "kind": "multiple", "text": {"zh": "您喜欢什么？", "en": "What do you like?"},
         "options": [{"id": "price", "text": "Price"}, {"id": "quality", "text": "Quality"},
                     {"id": "service", "text": "Service"}], "required": False},
        {"id": "improve", "kind": "text", "text": {"zh": "有什么建议？", "en": "What should we improve?"},
         "required": False, "max_length": 20},
    ],
})


def test_a_one_percent_sample_of_100k_is_within_a_tenth_of_a_point_and_deterministic(warehouse):
    if warehouse.engine != "duckdb":
        pytest.skip("the share is a property of the hash; DuckDB = PySpark is checked on 2,000 people below")
    people = warehouse.stage(pd.DataFrame({"profile_id": [f"p{i:06d}" for i in range(100_000)]}))
    drawn = warehouse.execute(sample(warehouse, people, 0.01, "vip-survey", SECRET)).profile_id
    assert abs(len(drawn) / 100_000 - 0.01) <= 0.001
    again = warehouse.execute(sample(warehouse, people, 0.01, "vip-survey", SECRET)).profile_id
    assert sorted(drawn) == sorted(again)
    other = set(warehouse.execute(sample(warehouse, people, 0.01, "vip-survey", "another secret")).profile_id)
    assert len(other & set(drawn)) < 50  # another secret draws other people (1% of 1% by chance)
    # the sample is drawn independently of the campaign's arms: about 10% of it is in a 10% control group
    arms = warehouse.execute(assignment_expr(people, "vip-survey", ArmSplit.of({"control": 0.1, "A": 0.9}), SECRET))
    control = set(arms.profile_id[arms.arm == "control"])
    assert 0.06 < len(control & set(drawn)) / len(drawn) < 0.14


def test_the_sample_is_the_python_bucket_on_both_engines(warehouse):
    ids = [f"p{i:05d}" for i in range(2_000)]
    people = warehouse.stage(pd.DataFrame({"profile_id": ids + ids[:10]}))  # duplicates count once
    drawn = sorted(warehouse.execute(sample(warehouse, people, 0.05, "c9", SECRET)).profile_id)
    assert drawn == [p for p in ids if bucket_for("c9/survey", p, SECRET) < 0.05]
    assert 60 < len(drawn) < 140


def test_sample_share_is_checked(warehouse):
    people = warehouse.stage(pd.DataFrame({"profile_id": ["a"]}))
    for share in (0, 1.5, float("nan"), "1%"):
        with pytest.raises(SurveyError, match="share"):
            sample(warehouse, people, share, "c", SECRET)


def _deliveries(wh, n: int, *, campaign="vip-survey", status="sent"):
    wh.append("deliveries", pd.DataFrame({
        "delivery_id": [f"d{campaign}{i}" for i in range(n)], "campaign_id": campaign,
        "profile_id": [f"p{i}" for i in range(n)], "arm": "A", "channel": "email", "status": status}))


def _token(i: int, campaign="vip-survey", questionnaire="vip-satisfaction") -> str:
    return token_from_url(Links(BASE_URL, SECRET).survey(f"d{campaign}{i}", questionnaire))


def test_answers_are_recorded_once_as_json(warehouse):
    _deliveries(warehouse, 3)
    got = record_answers(warehouse, _token(0), {"overall": 5.0, "channel": "app", "likes": ["service", "price"],
                                                "improve": "  more stores  "}, SECRET,
                         questionnaire=QUESTIONNAIRE, at=T0)
    assert got == {"overall": 5, "channel": "app", "likes": ["price", "service"], "improve": "more stores"}
    rows = warehouse.execute(warehouse.table("responses"))
    assert list(rows.response) == ["survey_answer"] and list(rows.profile_id) == ["p0"]
    assert json.loads(rows.detail.iloc[0]) == {"questionnaire": "vip-satisfaction", "answers": got}
    with pytest.raises(SurveyError, match="answered questionnaire 'vip-satisfaction' already"):
        record_answers(warehouse, _token(0), {"overall": 1, "channel": "web"}, SECRET, questionnaire=QUESTIONNAIRE)
    assert warehouse.count("responses") == 1


@pytest.mark.parametrize("answers, question, message", [
    ({"channel": "app"}, "overall", "question 'overall' (Overall satisfaction) needs an answer: a whole number from 1 to 5"),
    ({"overall": 6, "channel": "app"}, "overall", "6 is not allowed; give a whole number from 1 to 5"),
    ({"overall": True, "channel": "app"}, "overall", "True is not allowed"),
    ({"overall": 4.5, "channel": "app"}, "overall", "4.5 is not allowed"),
    ({"overall": 3, "channel": "mail"}, "channel", "'mail' is not an option; give one of store, app, web"),
    ({"overall": 3, "channel": "app", "likes": ["price", "fun"]}, "likes", "'fun' is not an option"),
    ({"overall": 3, "channel": "app", "likes": "price"}, "likes", "not a list of options"),
    ({"overall": 3, "channel": "app", "likes": ["price", "price"]}, "likes", "chosen twice"),
    ({"overall": 3, "channel": "app", "improve": "x" * 21}, "improve", "21 characters; give text of at most 20"),
    ({"overall": 3, "channel": "app", "colour": "red"}, "colour", "has no question 'colour'"),
])
def test_answers_that_do_not_fit_are_refused_and_nothing_is_written(warehouse, answers, question, message):
    _deliveries(warehouse, 1)
    with pytest.raises(SurveyError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        record_answers(warehouse, _token(0), answers, SECRET, questionnaire=QUESTIONNAIRE)
    assert err.value.question == question
    assert warehouse.count("responses") == 0


def test_links_that_are_not_this_survey_are_refused(warehouse):
    _deliveries(warehouse, 1)
    ok = {"overall": 3, "channel": "app"}
    click = token_from_url(Links(BASE_URL, SECRET).click("dvip-survey0", "https://shop.example/"))
    with pytest.raises(SurveyError, match="click link, not a survey link"):
        record_answers(warehouse, click, ok, SECRET, questionnaire=QUESTIONNAIRE)
    with pytest.raises(SurveyError, match="for questionnaire 'other'"):
        record_answers(warehouse, _token(0, questionnaire="other"), ok, SECRET, questionnaire=QUESTIONNAIRE)
    with pytest.raises(SurveyError, match="not in `deliveries`"):
        record_answers(warehouse, _token(7), ok, SECRET, questionnaire=QUESTIONNAIRE)
    with pytest.raises(TokenError, match="signature"):
        record_answers(warehouse, _token(0)[:-3] + "AAA", ok, SECRET, questionnaire=QUESTIONNAIRE)
    assert warehouse.count("responses") == 0


def test_summary_by_hand(warehouse):
    _deliveries(warehouse, 8)                               # 8 sent
    _deliveries(warehouse, 2, campaign="other")             # another campaign's answers do not count
    warehouse.append("deliveries", pd.DataFrame({"delivery_id": ["dheld"], "campaign_id": "vip-survey",
                                                 "profile_id": "p99", "arm": "control", "channel": "email",
                                                 "status": "held_out"}))
    answers = [
        {"overall": 5, "channel": "app", "likes": ["price", "quality"], "improve": "more stores"},
        {"overall": 4, "channel": "app", "likes": ["quality"]},
        {"overall": 2, "channel": "store"},
    ]
    for i, a in enumerate(answers):
        record_answers(warehouse, _token(i), a, SECRET, questionnaire=QUESTIONNAIRE, at=T0)
    record_answers(warehouse, _token(0, campaign="other"), {"overall": 1, "channel": "web"}, SECRET,
                   questionnaire=QUESTIONNAIRE, at=T0)
    s = summary(warehouse, "vip-survey", QUESTIONNAIRE)
    assert (s.sent, s.answered, s.response_rate) == (8, 3, 3 / 8)
    q = {x["id"]: x for x in s.to_dict()["questions"]}
    assert q["overall"]["counts"] == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1} and q["overall"]["mean"] == pytest.approx(11 / 3)
    assert q["channel"]["counts"] == {"store": 1, "app": 2, "web": 0} and q["channel"]["answered"] == 3
    assert q["likes"]["counts"] == {"price": 1, "quality": 2, "service": 0} and q["likes"]["answered"] == 2
    assert q["improve"]["answered"] == 1 and "counts" not in q["improve"]


def test_questionnaires_are_checked():
    base = {"id": "q", "title": "T", "questions": [{"id": "a", "kind": "rating", "text": "How?"}]}
    assert questionnaire_from_dict(base).questions[0].text.get("zh") == "How?"
    with pytest.raises(SurveyError, match="at least 2 options"):
        questionnaire_from_dict({**base, "questions": [{"id": "a", "kind": "single", "text": "x",
                                                        "options": [{"id": "o", "text": "o"}]}]})
    with pytest.raises(SurveyError, match="question ids repeat"):
        questionnaire_from_dict({**base, "questions": base["questions"] * 2})
    with pytest.raises(SurveyError, match="questions.0.kind"):
        questionnaire_from_dict({**base, "questions": [{"id": "a", "kind": "slider", "text": "x"}]})


def test_a_template_links_to_the_survey_like_track():
    t = TemplateSet([MessageTemplate("ask", "sms", text="{{ survey('vip-satisfaction') }}")])
    links = Links(BASE_URL, SECRET)
    text = t.render("ask", {"survey": lambda q: links.survey("d1", q), "profile": {}, "offer": None,
                            "recommendations": [], "campaign_id": "c", "arm": "A", "channel": "sms",
                            "delivery_id": "d1", "track": links.click, "unsubscribe_url": "", "pixel_url": ""}).text
    assert text.startswith(f"{BASE_URL}/s/")
    from jingzhun.activation.links import verify_token

    token = verify_token(token_from_url(text), SECRET)
    assert (token.delivery_id, token.kind, token.target) == ("d1", "survey", "vip-satisfaction")


def test_opening_a_survey_link_is_a_click_on_it(warehouse):
    from jingzhun.activation.links import record_response

    _deliveries(warehouse, 1)
    record_response(warehouse, _token(0), SECRET, at=T0)
    rows = warehouse.execute(warehouse.table("responses"))
    assert list(zip(rows.response, rows.detail)) == [("click", "survey vip-satisfaction")]
