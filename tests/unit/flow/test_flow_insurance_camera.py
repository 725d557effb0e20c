"""The insurance step's "camera" action: read fields confirmed by the patient + the card images."""

from __future__ import annotations

from typing import Any

from flow_driver import Practice, answer, done, show, to_step

from kiosk.flow.results import Show, Step
from kiosk.flow.types import CardImage, CoverageChoice
from portal_client.fhir.coverage_write import coverage_entries

FRONT = {"side": "front", "content_type": "image/jpeg", "data": b"\xff\xd8front"}
BACK = {"side": "back", "content_type": "image/jpeg", "data": b"\xff\xd8back"}
READ = {
    "action": "camera",
    "payer_name": "Harbor Point Health",
    "member_id": "HPH123456789",
    "group_number": "GR20417",
    "subscriber_name": "ALEX DEMO",
    "plan_name": "Select PPO",
    "rx_bin": "610014",
    "rx_pcn": "HPRX",
    "rx_group": "HPRX01",
    "images": [FRONT, BACK],
}


def test_camera_reading_confirmed_becomes_an_updated_coverage_with_images(practice: Practice) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    show(p.flow.submit(READ), Step.FORMS)
    ins = p.flow.session.insurance
    assert ins is not None and ins.choice is CoverageChoice.UPDATED and ins.coverage is not None
    c = ins.coverage
    assert (c.member_id, c.group_number, c.payer_name, c.plan_name, c.rx_bin, c.rx_pcn, c.rx_group) == (
        "HPH123456789", "GR20417", "Harbor Point Health", "Select PPO", "610014", "HPRX", "HPRX01")
    assert [i.side for i in ins.images] == ["front", "back"] and ins.images[0].data == FRONT["data"]
    result: Any = p.flow.current
    while isinstance(result, Show):
        result = answer(p, result)
    done(result)
    record = p.sink.records[-1]
    entries, coverage_url = coverage_entries(record, "urn:uuid:encounter")
    coverage = entries[0]["resource"]
    assert coverage["subscriberId"] == "HPH123456789"
    assert {k["type"]["coding"][0]["code"]: k["value"] for k in coverage["class"]} == {
        "group": "GR20417", "plan": "Select PPO", "rxbin": "610014", "rxpcn": "HPRX", "rxgroup": "HPRX01"}
    documents = [e["resource"] for e in entries[1:]]
    assert [d["description"] for d in documents] == ["Insurance card (front)", "Insurance card (back)"]
    assert all(d["context"]["related"] == [{"reference": coverage_url}] for d in documents)


def test_camera_errors_keep_the_patient_on_the_step(practice: Practice) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    r = show(p.flow.submit({**READ, "member_id": ""}), Step.INSURANCE)
    assert r.errors == {"member_id": "required"}
    r = show(p.flow.submit({**READ, "member_id": "HPH$", "rx_bin": "61001"}), Step.INSURANCE)
    assert r.errors == {"member_id": "invalid_member_id", "rx_bin": "invalid_rx_bin"}
    r = show(p.flow.submit({**READ, "group_number": "9" * 41}), Step.INSURANCE)
    assert r.errors == {"group_number": "too_long"}
    for images in (None, [], [FRONT] * 5, [{"side": "top", "content_type": "image/jpeg", "data": b"x"}],
                   [{"side": "front", "content_type": "image/gif", "data": b"x"}],
                   [{"side": "front", "content_type": "image/jpeg", "data": ""}]):
        r = show(p.flow.submit({**READ, "images": images}), Step.INSURANCE)
        assert r.errors == {"base": "invalid_input"}, images
    assert p.flow.session.insurance is None


def test_camera_payer_may_stay_empty_and_images_may_be_card_images(practice: Practice) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    image = CardImage("front", "image/png", b"\x89PNG")
    show(p.flow.submit({"action": "camera", "member_id": "W123456789", "images": [image]}), Step.FORMS)
    ins = p.flow.session.insurance
    assert ins is not None and ins.coverage is not None and ins.coverage.payer_name == ""
    assert ins.images == (image,)


def test_after_a_failed_capture_manual_and_self_pay_still_work(practice: Practice) -> None:
    p = practice
    to_step(p, Step.INSURANCE)
    show(p.flow.submit({**READ, "images": []}), Step.INSURANCE)
    show(p.flow.submit({"action": "self_pay"}), Step.FORMS)
    assert p.flow.session.insurance is not None
    assert p.flow.session.insurance.choice is CoverageChoice.SELF_PAY
