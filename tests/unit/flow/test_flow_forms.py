"""The forms step in the flow: several Questionnaires, paging, back, enableWhen on the same page."""

from __future__ import annotations

from typing import Any

from flow_driver import Practice, make_practice, show, to_step
from flow_fakes import FakeDirectory, load_fhir

from kiosk.flow.results import Show, Step
from kiosk.flow.types import AnswerKind

SYMPTOMS = {
    "resourceType": "Questionnaire",
    "id": "symptoms",
    "title": "Symptoms",
    "item": [
        {
            "linkId": "g",
            "type": "group",
            "text": "Today",
            "item": [
                {"linkId": "fever", "type": "boolean", "text": "Fever?", "required": True},
                {
                    "linkId": "temp",
                    "type": "decimal",
                    "text": "Temperature",
                    "required": True,
                    "enableWhen": [{"question": "fever", "operator": "=", "answerBoolean": True}],
                },
            ],
        }
    ],
}


def practice_with(*questionnaires: dict[str, Any], **config: Any) -> Practice:
    directory = FakeDirectory()
    directory.questionnaires = list(questionnaires)
    return make_practice(directory=directory, **config)


def nxt(p: Practice, answers: dict[str, Any]) -> Show:
    result = p.flow.submit({"action": "next", "answers": answers})
    assert isinstance(result, Show)
    return result


def test_two_questionnaires_with_paging_and_back() -> None:
    p = practice_with(load_fhir("questionnaire-zika-virus-exposure-assessment.json"), SYMPTOMS)
    page = to_step(p, Step.FORMS)
    assert page.data["questionnaire_title"] == "Example Zika Virus Exposure Assessment"
    assert (page.data["questionnaire_index"], page.data["questionnaire_count"]) == (0, 2)
    assert (page.data["page_index"], page.data["page_count"]) == (0, 1)
    page = nxt(p, {"1": [False]})
    assert page.step == Step.FORMS and [i["link_id"] for i in page.data["items"]] == ["2"]
    assert (page.data["page_index"], page.data["page_count"]) == (1, 2)
    page = nxt(p, {"2": [True]})  # enables 3, a quantity question: not asked
    assert page.data["questionnaire_title"] == "Symptoms" and page.data["questionnaire_index"] == 1
    # Back to the last page of the first questionnaire, with its answer shown.
    back = show(p.flow.back(), Step.FORMS)
    assert back.data["questionnaire_index"] == 0 and back.data["items"][0]["answers"] == [True]
    show(p.flow.submit({"action": "back"}), Step.FORMS)
    show(p.flow.back(), Step.INSURANCE)  # before the first page: the previous step
    show(p.flow.submit({"action": "same"}), Step.FORMS)
    page = nxt(p, {})  # answers kept: the patient just taps "next"
    page = nxt(p, {})
    assert page.data["questionnaire_title"] == "Symptoms"


def test_required_and_same_page_enable_when() -> None:
    p = practice_with(SYMPTOMS)
    page = to_step(p, Step.FORMS)
    assert [i["link_id"] for i in page.data["items"][0]["items"]] == ["fever"]
    assert nxt(p, {}).errors == {"fever": "required"}
    page = nxt(p, {"fever": [True]})
    # The answer switched on a question on this page: shown first, no error yet.
    assert page.step == Step.FORMS and page.errors == {}
    assert [i["link_id"] for i in page.data["items"][0]["items"]] == ["fever", "temp"]
    assert nxt(p, {"temp": ["hot"]}).errors == {"temp": "invalid_decimal"}
    assert nxt(p, {}).errors == {"temp": "required"}
    consents = p.flow.submit({"action": "next", "answers": {"temp": ["38.4"]}})
    show(consents, Step.CONSENTS)
    (result,) = p.flow.session.forms
    (group,) = result.response_items()
    assert [(i.link_id, i.answers[0].kind) for i in group.items] == [
        ("fever", AnswerKind.BOOLEAN),
        ("temp", AnswerKind.DECIMAL),
    ]


def test_update_action_re_renders_without_validating() -> None:
    p = practice_with(SYMPTOMS)
    to_step(p, Step.FORMS)
    page = show(p.flow.submit({"action": "update", "answers": {"fever": [True]}}), Step.FORMS)
    assert page.errors == {} and [i["link_id"] for i in page.data["items"][0]["items"]] == ["fever", "temp"]
    page = show(p.flow.submit({"action": "update", "answers": {"fever": [False]}}), Step.FORMS)
    assert [i["link_id"] for i in page.data["items"][0]["items"]] == ["fever"]
    show(p.flow.submit({"action": "next", "answers": {}}), Step.CONSENTS)


def test_simple_mode_from_config() -> None:
    p = practice_with(SYMPTOMS, simple_forms=True)
    page = to_step(p, Step.FORMS)
    assert [i["link_id"] for i in page.data["items"]] == ["fever"] and page.data["page_count"] == 1
    page = nxt(p, {"fever": [True]})
    assert [i["link_id"] for i in page.data["items"]] == ["temp"]
    assert (page.data["page_index"], page.data["page_count"]) == (1, 2)


def test_partial_forms_travel_with_a_desk_hand_off() -> None:
    p = practice_with(load_fhir("phq-9-questionnaire-loinc.json"))
    to_step(p, Step.FORMS)
    nxt(p, {"14363": ["LA6570-1"]})
    p.flow.to_desk()
    (record,) = p.sink.records
    (response,) = record.responses
    assert response.questionnaire_id == "44249-1" and [i.link_id for i in response.items] == ["14363"]
    assert response.complete is False  # goes out as an "in-progress" QuestionnaireResponse


def test_completed_at_is_when_the_form_was_finished() -> None:
    p = practice_with(SYMPTOMS)
    to_step(p, Step.FORMS)
    nxt(p, {"fever": [False]})
    finished_at = p.clock.now()
    p.clock.advance(minutes=3)
    current: Any = p.flow.current
    from flow_driver import answer

    while isinstance(current, Show):
        current = answer(p, current)
    (record,) = p.sink.records
    assert record.responses[0].completed_at == finished_at and record.completed_at > finished_at
    assert record.responses[0].complete is True
