"""The generic FHIR R4 Questionnaire engine: HL7's examples, a synthetic form with every feature, fuzzing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flow_fakes import load_fhir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.flow.questionnaire import Form, read_questionnaire
from kiosk.flow.types import Answer, AnswerKind

ERROR_KEYS = {
    "required",
    "invalid_integer",
    "invalid_decimal",
    "invalid_date",
    "too_long",
    "invalid_choice",
    "invalid_input",
}
LOINC = "http://loinc.org"


def item(link_id: str, type_: str, text: str = "", **extra: Any) -> dict[str, Any]:
    return {"linkId": link_id, "type": type_, "text": text or link_id, **extra}


SYNTHETIC: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "id": "kiosk-intake",
    "url": "http://example.org/Questionnaire/kiosk-intake",
    "version": "2",
    "title": "Intake",
    "contained": [
        {
            "resourceType": "ValueSet",
            "id": "yn",
            "compose": {
                "include": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0136",
                        "concept": [{"code": "Y", "display": "Yes"}, {"code": "N", "display": "No"}],
                    }
                ]
            },
        }
    ],
    "item": [
        item("intro", "display", "Please answer a few questions."),
        item("name", "string", maxLength=10, required=True),
        item("notes", "text"),
        item("age", "integer", required=True),
        item("temp", "decimal"),
        item("lmp", "date"),
        item("smoker", "boolean"),
        item(
            "packs",
            "integer",
            enableWhen=[{"question": "smoker", "operator": "=", "answerBoolean": True}],
            required=True,
        ),
        item("pain", "choice", required=True, answerOption=[{"valueInteger": n} for n in range(4)]),
        item(
            "severe",
            "display",
            "That sounds hard.",
            enableWhen=[{"question": "pain", "operator": ">=", "answerInteger": 2}],
        ),
        item(
            "colour",
            "open-choice",
            repeats=True,
            answerOption=[{"valueString": "red"}, {"valueString": "blue", "initialSelected": True}],
        ),
        item("pharmacy", "open-choice", answerValueSet="http://example.org/ValueSet/pharmacies"),
        item("yn", "choice", answerValueSet="#yn"),
        item("unknown-vs", "choice", answerValueSet="http://example.org/ValueSet/none", required=True),
        item("mrn", "string", readOnly=True, initial=[{"valueString": "K-42"}]),
        item(
            "symptoms",
            "group",
            required=True,
            item=[
                item("cough", "boolean"),
                item("fever", "boolean"),
                item(
                    "since",
                    "date",
                    enableWhen=[
                        {"question": "cough", "operator": "=", "answerBoolean": True},
                        {"question": "fever", "operator": "=", "answerBoolean": True},
                    ],
                    enableBehavior="any",
                ),
            ],
        ),
        item(
            "adult",
            "display",
            "Adult questions",
            enableWhen=[
                {"question": "age", "operator": ">", "answerInteger": 17},
                {"question": "age", "operator": "<=", "answerInteger": 120},
            ],
            enableBehavior="all",
        ),
        item("child", "string", enableWhen=[{"question": "age", "operator": "<", "answerDecimal": 18}]),
        item(
            "recent", "boolean", enableWhen=[{"question": "lmp", "operator": ">", "answerDate": "2025-01-01"}]
        ),
        item("not-bob", "string", enableWhen=[{"question": "name", "operator": "!=", "answerString": "Bob"}]),
        item(
            "said-yes",
            "string",
            enableWhen=[
                {
                    "question": "yn",
                    "operator": "=",
                    "answerCoding": {"system": "http://terminology.hl7.org/CodeSystem/v2-0136", "code": "Y"},
                }
            ],
        ),
        item(
            "no-notes",
            "string",
            enableWhen=[{"question": "notes", "operator": "exists", "answerBoolean": False}],
        ),
        item(
            "cycle-a",
            "string",
            enableWhen=[{"question": "cycle-b", "operator": "exists", "answerBoolean": True}],
        ),
        item(
            "cycle-b",
            "string",
            enableWhen=[{"question": "cycle-a", "operator": "exists", "answerBoolean": True}],
        ),
        item(
            "hidden-when-temp-low",
            "string",
            enableWhen=[{"question": "temp", "operator": ">=", "answerDecimal": 38.0}],
        ),
        item("nested", "boolean", item=[item("nested-when", "date", required=True)]),
        item("qty", "quantity"),
        {"type": "string", "text": "no link id"},
        item("name", "string", text="duplicate link id"),
    ],
}


def synthetic(simple: bool = False) -> Form:
    return Form.from_json(SYNTHETIC, simple=simple)


def goto(form: Form, link_id: str) -> None:
    assert form.first_page()
    while form.current_page is not None and form.current_page.link_id != link_id:
        assert form.next_page(), f"{link_id} is not an enabled page"


def page_ids(form: Form) -> list[str]:
    return [p.link_id for p in form.visible_pages()]


# -- reading ------------------------------------------------------------------------------------------
def test_read_synthetic() -> None:
    d = read_questionnaire(SYNTHETIC)
    assert (d.id, d.url, d.title) == (
        "kiosk-intake",
        "http://example.org/Questionnaire/kiosk-intake|2",
        "Intake",
    )
    assert "qty" not in d.by_link_id  # quantity is not asked on the kiosk
    assert d.by_link_id["name"].text == "name"  # the duplicate link id was dropped
    assert [o.key for o in d.by_link_id["pain"].options] == ["0", "1", "2", "3"]
    assert [(o.key, o.display) for o in d.by_link_id["yn"].options] == [("Y", "Yes"), ("N", "No")]
    assert d.by_link_id["unknown-vs"].options == () and not d.by_link_id["unknown-vs"].answerable
    assert d.parent_of["since"] == "symptoms"


def test_read_fixtures() -> None:
    phq = read_questionnaire(load_fhir("phq-9-questionnaire-loinc.json"))
    assert phq.title == "PHQ-9 Depression Assessment" and len(phq.items) == 11
    gcs = read_questionnaire(load_fhir("questionnaire-example-gcs.json"))
    assert [o.key for o in gcs.by_link_id["1.2"].options][:2] == ["LA6562-8", "LA6563-6"]
    assert gcs.by_link_id["1.2"].options[0].answer == Answer(
        AnswerKind.CODING, "LA6562-8", LOINC, "No motor response"
    )
    ex = read_questionnaire(load_fhir("questionnaire-example.json"))
    assert ex.by_link_id["1.1"].options == ()  # answerValueSet by URL: nothing to list
    blue = read_questionnaire(load_fhir("questionnaire-example-bluebook.json"))
    assert "vitaminiKDose1" not in blue.by_link_id  # dateTime: not asked


@pytest.mark.parametrize("junk", [{}, {"item": "x"}, {"item": [None, 3, {"linkId": 5}]}, {"contained": [1]}])
def test_read_junk_never_raises(junk: dict[str, Any]) -> None:
    assert read_questionnaire(junk).items == ()


# -- pages --------------------------------------------------------------------------------------------
def test_pages_follow_enable_when() -> None:
    form = synthetic()
    assert page_ids(form) == [
        "intro",
        "name",
        "notes",
        "age",
        "temp",
        "lmp",
        "smoker",
        "pain",
        "colour",
        "pharmacy",
        "yn",
        "unknown-vs",
        "mrn",
        "symptoms",
        "not-bob",
        "no-notes",
        "nested",
    ]
    form.first_page()
    assert form.page_index == 0 and form.page_count == 17
    goto(form, "age")
    assert form.apply({"age": ["30"]}) == {}
    assert "adult" in page_ids(form) and "child" not in page_ids(form)
    form.apply({"age": [12]})
    assert "child" in page_ids(form) and "adult" not in page_ids(form)


def test_simple_mode_one_question_per_page() -> None:
    form = synthetic(simple=True)
    ids = page_ids(form)
    assert "symptoms" not in ids and ids[ids.index("mrn") + 1 : ids.index("mrn") + 3] == ["cough", "fever"]
    assert ids[-2:] == ["nested", "nested-when"]
    goto(form, "cough")
    (rendered,) = form.render_page()
    assert rendered["link_id"] == "cough" and rendered["items"] == []


def test_render_item_shape() -> None:
    form = synthetic()
    goto(form, "colour")
    (colour,) = form.render_page()
    assert colour == {
        "link_id": "colour",
        "text": "colour",
        "prefix": "",
        "type": "open-choice",
        "required": False,
        "repeats": True,
        "read_only": False,
        "max_length": None,
        "options": [{"key": "red", "display": "red"}, {"key": "blue", "display": "blue"}],
        "answers": ["blue"],  # initialSelected
        "items": [],
    }
    goto(form, "unknown-vs")
    (unknown,) = form.render_page()
    assert unknown["options"] == [] and unknown["required"] is False  # nothing to choose: never blocks
    assert form.validate_page() == {}


# -- values -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("link_id", "value", "expected"),
    [
        ("name", "  Ann ", Answer(AnswerKind.STRING, "Ann")),
        ("age", "42", Answer(AnswerKind.INTEGER, 42)),
        ("age", 42, Answer(AnswerKind.INTEGER, 42)),
        ("age", "-3", Answer(AnswerKind.INTEGER, -3)),
        ("temp", "37.50", Answer(AnswerKind.DECIMAL, Decimal("37.50"))),
        ("temp", 38, Answer(AnswerKind.DECIMAL, Decimal(38))),
        ("temp", 36.6, Answer(AnswerKind.DECIMAL, Decimal("36.6"))),
        ("lmp", "2025-02-01", Answer(AnswerKind.DATE, date(2025, 2, 1))),
        ("smoker", False, Answer(AnswerKind.BOOLEAN, False)),
        ("pain", "2", Answer(AnswerKind.INTEGER, 2)),
        ("yn", "Y", Answer(AnswerKind.CODING, "Y", "http://terminology.hl7.org/CodeSystem/v2-0136", "Yes")),
        ("pharmacy", "Harbor Drugs", Answer(AnswerKind.STRING, "Harbor Drugs")),
        ("pharmacy", {"other": "Main St"}, Answer(AnswerKind.STRING, "Main St")),
    ],
)
def test_values_are_typed(link_id: str, value: Any, expected: Answer) -> None:
    form = synthetic()
    goto(form, link_id)
    assert form.apply({link_id: [value]}) == {}
    assert form.answers[link_id] == (expected,)


@pytest.mark.parametrize(
    ("link_id", "value", "error"),
    [
        ("name", "Bartholomew the Great", "too_long"),
        ("name", 7, "invalid_input"),
        ("age", "4.5", "invalid_integer"),
        ("age", True, "invalid_integer"),
        ("age", "99999999999", "invalid_integer"),
        ("age", 1.0, "invalid_integer"),
        ("temp", "thirty", "invalid_decimal"),
        ("temp", float("nan"), "invalid_decimal"),
        ("temp", "1e999", "invalid_decimal"),
        ("lmp", "01/02/2025", "invalid_date"),
        ("lmp", "2025-02-30", "invalid_date"),
        ("smoker", "yes", "invalid_choice"),
        ("pain", "7", "invalid_choice"),
        ("pain", 2, "invalid_choice"),
        ("yn", {"other": "maybe"}, "invalid_choice"),
        ("colour", "green", "invalid_choice"),
        ("colour", {"other": 5}, "invalid_input"),
    ],
)
def test_invalid_values(link_id: str, value: Any, error: str) -> None:
    form = synthetic()
    goto(form, link_id)
    assert form.apply({link_id: [value]}) == {link_id: error}
    assert link_id not in form.answers or link_id == "colour"


def test_repeats_and_single_answers() -> None:
    form = synthetic()
    goto(form, "colour")
    assert form.apply({"colour": ["red", "blue", "red", {"other": "teal"}]}) == {}
    assert [a.value for a in form.answers["colour"]] == ["red", "blue", "teal"]
    assert form.render_page()[0]["answers"] == ["red", "blue", {"other": "teal"}]
    goto(form, "name")
    assert form.apply({"name": ["Ann", "Bo"]}) == {"name": "invalid_input"}
    assert form.apply({"name": "Ann"}) == {}  # a bare value is a one-element list
    assert form.apply({"name": []}) == {} and "name" not in form.answers  # cleared


def test_read_only_and_other_pages_are_ignored() -> None:
    form = synthetic()
    goto(form, "mrn")
    assert form.apply({"mrn": ["HACKED"], "age": ["5"], "unknown": [1]}) == {}
    assert form.answers["mrn"] == (Answer(AnswerKind.STRING, "K-42"),) and "age" not in form.answers
    assert form.render_page()[0]["read_only"] is True


# -- validation and enableWhen ------------------------------------------------------------------------
def test_required_and_enable_when_on_one_page() -> None:
    form = synthetic()
    goto(form, "name")
    assert form.validate_page() == {"name": "required"}
    goto(form, "symptoms")
    assert form.validate_page() == {"symptoms": "required"}  # a required group needs one answer inside
    assert [i["link_id"] for i in form.render_page()[0]["items"]] == ["cough", "fever"]
    form.apply({"fever": [True]})
    assert form.new_items_since_render()  # "since" appeared (enableBehavior any)
    assert [i["link_id"] for i in form.render_page()[0]["items"]] == ["cough", "fever", "since"]
    assert not form.new_items_since_render()
    assert form.validate_page() == {}


def test_nested_question_children_validated_only_when_parent_answered() -> None:
    form = synthetic()
    goto(form, "nested")
    assert form.validate_page() == {}
    form.apply({"nested": [True]})
    assert form.validate_page() == {"nested-when": "required"}
    form.apply({"nested-when": ["2025-01-05"]})
    assert form.validate_page() == {}
    (nested,) = [r for r in form.response_items() if r.link_id == "nested"]
    assert [c.link_id for c in nested.items] == ["nested-when"]


@pytest.mark.parametrize(
    ("answers", "enabled", "disabled"),
    [
        ({"age": ["30"]}, {"adult"}, {"child"}),
        ({"age": ["121"]}, set(), {"adult", "child"}),
        ({"age": ["17"]}, {"child"}, {"adult"}),
        ({"lmp": ["2025-02-01"]}, {"recent"}, set()),
        ({"lmp": ["2025-01-01"]}, set(), {"recent"}),
        ({"name": ["Bob"]}, set(), {"not-bob"}),
        ({"name": ["Ann"]}, {"not-bob"}, set()),
        ({}, {"not-bob", "no-notes"}, {"recent", "said-yes", "cycle-a", "cycle-b", "hidden-when-temp-low"}),
        ({"yn": ["Y"]}, {"said-yes"}, set()),
        ({"yn": ["N"]}, set(), {"said-yes"}),
        ({"notes": ["x"]}, set(), {"no-notes"}),
        ({"temp": ["38.0"]}, {"hidden-when-temp-low"}, set()),
        ({"temp": ["37.9"]}, set(), {"hidden-when-temp-low"}),
        ({"pain": ["2"]}, {"severe"}, set()),
        ({"pain": ["1"]}, set(), {"severe"}),
    ],
)
def test_enable_when_operators(answers: dict[str, list[Any]], enabled: set[str], disabled: set[str]) -> None:
    form = synthetic()
    for link_id, values in answers.items():
        goto(form, link_id)
        assert form.apply({link_id: values}) == {}
    for link_id in enabled:
        assert form.is_enabled(link_id), link_id
    for link_id in disabled:
        assert not form.is_enabled(link_id), link_id


def test_disabled_answers_are_dropped_from_the_response() -> None:
    form = synthetic()
    goto(form, "smoker")
    form.apply({"smoker": [True]})
    goto(form, "packs")
    form.apply({"packs": ["2"]})
    assert {r.link_id for r in form.response_items()} >= {"smoker", "packs"}
    goto(form, "smoker")
    form.apply({"smoker": [False]})
    ids = {r.link_id for r in form.response_items()}
    assert "packs" not in ids and "smoker" in ids
    assert form.answers["packs"]  # kept in memory: switching back restores it
    form.apply({"smoker": [True]})
    assert "packs" in {r.link_id for r in form.response_items()}


def test_response_tree_of_synthetic() -> None:
    form = synthetic()
    for link_id, values in {"name": ["Ann"], "age": ["40"], "symptoms": None, "pain": ["3"]}.items():
        goto(form, link_id)
        if values:
            form.apply({link_id: values})
        else:
            form.apply({"cough": [True], "since": ["2025-03-01"]})
    items = {r.link_id: r for r in form.response_items()}
    assert set(items) == {"name", "age", "pain", "colour", "mrn", "symptoms"}  # initial values count
    assert [c.link_id for c in items["symptoms"].items] == ["cough", "since"]
    assert items["pain"].answers == (Answer(AnswerKind.INTEGER, 3),)


# -- HL7 and LOINC examples ---------------------------------------------------------------------------
def test_phq9_walk() -> None:
    form = Form.from_json(load_fhir("phq-9-questionnaire-loinc.json"))
    assert form.page_count == 11
    form.first_page()
    assert form.validate_page() == {"14363": "required"}
    assert form.apply({"14363": ["nope"]}) == {"14363": "invalid_choice"}
    assert form.apply({"14363": ["LA6569-3"]}) == {}
    assert form.answers["14363"] == (Answer(AnswerKind.CODING, "LA6569-3", LOINC, "Several days"),)
    steps = 1
    while form.next_page():
        steps += 1
        (rendered,) = form.render_page()
        if rendered["type"] == "choice":
            form.apply({rendered["link_id"]: [rendered["options"][0]["key"]]})
        else:
            assert form.apply({rendered["link_id"]: ["4"]}) == {}
        assert form.validate_page() == {}
    assert steps == 11 and form.page_index == 11
    items = form.response_items()
    assert len(items) == 11 and items[-1].answers == (Answer(AnswerKind.DECIMAL, Decimal(4)),)


def test_zika_enable_when_chain_and_dropped_answers() -> None:
    form = Form.from_json(load_fhir("questionnaire-zika-virus-exposure-assessment.json"))
    assert page_ids(form) == ["1"]
    form.first_page()
    form.apply({"1": [False]})
    assert page_ids(form) == ["1", "2"]
    form.next_page()
    form.apply({"2": [False]})
    assert page_ids(form) == ["1", "2", "4"]
    form.next_page()
    form.apply({"4": [True]})  # enables 5, a quantity question the kiosk does not ask
    assert page_ids(form) == ["1", "2", "4"]
    assert not form.next_page()
    assert [r.link_id for r in form.response_items()] == ["1", "2", "4"]
    # The patient goes back and says they live in a Zika area: 2 and 4 no longer apply.
    form.first_page()
    form.apply({"1": [True]})
    assert page_ids(form) == ["1"]
    assert [r.link_id for r in form.response_items()] == ["1"]


def test_f201_groups_and_types() -> None:
    form = Form.from_json(load_fhir("questionnaire-example-f201-lifelines.json"))
    goto(form, "2")
    assert form.apply({"2.2": ["12-04-1980"], "2.1": ["x" * 20_000]}) == {
        "2.2": "invalid_date",
        "2.1": "too_long",
    }
    assert form.apply({"2.2": ["1980-04-12"]}) == {}


def test_gcs_contained_value_sets() -> None:
    form = Form.from_json(load_fhir("questionnaire-example-gcs.json"))
    form.first_page()
    (verbal,) = form.render_page()
    assert [o["key"] for o in verbal["options"]] == [
        "LA6557-8",
        "LA6558-6",
        "LA6559-4",
        "LA6560-2",
        "LA6561-0",
    ]
    assert form.apply({"1.1": ["LA6560-2"]}) == {}
    assert form.answers["1.1"][0].system == LOINC


def test_bluebook_exists_and_unsupported_children() -> None:
    form = Form.from_json(load_fhir("questionnaire-example-bluebook.json"))
    assert form.is_enabled("vitaminKgiven") and not form.is_enabled("vitaminKgivenDoses")
    form.first_page()
    (root,) = form.render_page()
    neonatal = next(i for i in root["items"] if i["link_id"] == "neonatalInformation")
    vitk = next(i for i in neonatal["items"] if i["link_id"] == "vitaminKgiven")
    form.apply({"vitaminKgiven": [vitk["options"][0]["key"]]})
    assert form.is_enabled("vitaminKgivenDoses")
    # Its children are dateTime questions the kiosk does not ask: the empty group is not listed.
    (root,) = form.render_page()
    neonatal = next(i for i in root["items"] if i["link_id"] == "neonatalInformation")
    vitk = next(i for i in neonatal["items"] if i["link_id"] == "vitaminKgiven")
    assert vitk["items"] == []


def test_example_3141_value_set_by_url_is_empty_but_harmless() -> None:
    form = Form.from_json(load_fhir("questionnaire-example.json"))
    form.first_page()
    assert form.validate_page() == {}
    assert form.apply({"1.1": ["Y"]}) == {"1.1": "invalid_choice"}
    assert not form.is_enabled("1.1.1")


# -- fuzzing ------------------------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", "2025-01-01", "LA6569-3", "Y", "2", "red", "1e5", "-0", "0000-00-00"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["other", "x"]) | st.text(max_size=5), children, max_size=2)
    ),
    max_leaves=6,
)
FORMS = {
    "synthetic": SYNTHETIC,
    "phq": load_fhir("phq-9-questionnaire-loinc.json"),
    "zika": load_fhir("questionnaire-zika-virus-exposure-assessment.json"),
    "f201": load_fhir("questionnaire-example-f201-lifelines.json"),
    "bluebook": load_fhir("questionnaire-example-bluebook.json"),
    "gcs": load_fhir("questionnaire-example-gcs.json"),
}
ALL_LINK_IDS = sorted({lid for q in FORMS.values() for lid in read_questionnaire(q).by_link_id})


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(FORMS)),
    simple=st.booleans(),
    moves=st.lists(
        st.tuples(
            st.sampled_from(["next", "back", "apply", "validate"]),
            st.dictionaries(st.sampled_from(ALL_LINK_IDS) | st.text(max_size=4), JSON_VALUES, max_size=4)
            | JSON_VALUES,
        ),
        max_size=12,
    ),
)
def test_random_answers_never_crash(name: str, simple: bool, moves: list[tuple[str, Any]]) -> None:
    form = Form.from_json(FORMS[name], simple=simple)
    form.first_page()
    for move, answers in moves:
        if move == "next":
            form.next_page()
        elif move == "back":
            form.previous_page()
        elif move == "apply":
            errors = form.apply(answers)
            assert set(errors.values()) <= ERROR_KEYS
        errors = form.validate_page()
        assert set(errors.values()) <= ERROR_KEYS
        for rendered in form.render_page():
            assert isinstance(rendered["answers"], list)
        assert 0 <= form.page_index <= form.page_count
    for response in form.response_items():
        assert response.answers or response.items


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "linkId",
                        "type",
                        "item",
                        "enableWhen",
                        "answerOption",
                        "question",
                        "operator",
                        "answerBoolean",
                        "valueCoding",
                        "code",
                        "initial",
                        "contained",
                        "answerValueSet",
                        "required",
                        "repeats",
                        "maxLength",
                        "valueString",
                        "id",
                        "resourceType",
                    ]
                ),
                c,
                max_size=5,
            )
        ),
        max_leaves=25,
    )
)
def test_arbitrary_json_never_crashes_the_reader(resource: Any) -> None:
    if not isinstance(resource, dict):
        resource = {"item": resource}
    form = Form.from_json(resource)
    form.first_page()
    form.render_page()
    form.validate_page()
    form.response_items()


@pytest.mark.parametrize("backward", [False, True])
def test_long_enable_when_chains_are_evaluated_without_recursion(backward: bool) -> None:
    n = 3000
    step = 1 if backward else -1
    items = [
        item(
            f"q{i}",
            "boolean",
            enableWhen=[{"question": f"q{i + step}", "operator": "exists", "answerBoolean": False}],
        )
        for i in range(n)
    ]
    form = Form.from_json({"item": items})
    assert form.page_count == n
    first = "q0" if not backward else f"q{n - 1}"
    goto(form, first)
    assert form.apply({first: [True]}) == {}
    # The next item in the chain now sees an answer and switches off; the one after it switches back on.
    neighbour = f"q{1 if not backward else n - 2}"
    assert not form.is_enabled(neighbour) and form.page_count == n - 1
