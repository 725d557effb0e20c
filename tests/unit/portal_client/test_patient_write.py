"""Change sets on Patient/Appointment: minimal, re-appliable on a fresh version, never touching the rest."""

from __future__ import annotations

import copy
from typing import Any

from checkin_factory import appointment_source, make_patient, patient_source
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.flow.types import Address, Demographics
from portal_client.fhir import read_mapping
from portal_client.fhir.patient_write import apply_changes, changes_between, mark_arrived, same_content


def shown(resource: dict[str, Any]) -> Demographics:
    """What the kiosk shows for a Patient: the read side's own reading."""
    return read_mapping.patient({**resource, "birthDate": "1974-12-25"}).demographics


def test_change_set_holds_only_what_changed() -> None:
    before = make_patient().demographics
    assert before.phone == "(03) 3410 5613"  # read_mapping shows the mobile number
    wanted = Demographics(phone=before.phone, email="new@example.org", address=before.address)
    assert changes_between(before, wanted) == {"email": {"from": "", "to": "new@example.org"}}
    no_country = replace_address(before.address, country="")
    assert changes_between(before, Demographics(before.phone, "", no_country)) == {}  # empty country: keep
    assert changes_between(before, Demographics(before.phone, "", Address())) == {}  # not given, not "delete"


def replace_address(address: Address, **changes: str) -> Address:
    return Address(**{**vars(address), **changes})


def test_the_entry_the_patient_saw_is_the_one_changed() -> None:
    source = patient_source()
    before = make_patient(source).demographics
    changes = changes_between(before, Demographics("(03) 5555 0000", "", before.address))
    updated = apply_changes(source, changes)
    phones = [(t.get("use"), t["value"]) for t in updated["telecom"] if t.get("system") == "phone"]
    assert phones == [("work", "(03) 5555 6473"), ("mobile", "(03) 5555 0000"), ("old", "(03) 5555 8834")]
    assert shown(updated).phone == "(03) 5555 0000"
    assert apply_changes(updated, changes) == updated  # a replay changes nothing more


def test_staff_edit_made_meanwhile_survives_reapplication() -> None:
    source = patient_source()
    before = make_patient(source).demographics
    changes = changes_between(before, Demographics("555 0100", "", before.address))
    fresh = copy.deepcopy(source)  # staff changed the address and added a name meanwhile
    fresh["address"][0]["city"] = "Shelbyville"
    fresh["name"].append({"use": "nickname", "given": ["Pete"]})
    fresh["meta"]["versionId"] = "8"
    updated = apply_changes(fresh, changes)
    assert updated["address"][0]["city"] == "Shelbyville"
    assert updated["name"][-1]["given"] == ["Pete"]
    assert shown(updated).phone == "555 0100"
    assert "versionId" not in updated["meta"]


def test_address_change_keeps_use_period_and_drops_stale_text() -> None:
    source = patient_source()
    before = make_patient(source).demographics
    new = Address("12 New Road", "Unit 4", "Springfield", "Vic", "3998")
    updated = apply_changes(source, changes_between(before, Demographics(before.phone, "", new)))
    (home,) = updated["address"]
    assert home["line"] == ["12 New Road", "Unit 4"] and home["postalCode"] == "3998"
    assert home["use"] == "home" and home["type"] == "both" and home["period"] == {"start": "1974-12-25"}
    assert "text" not in home and "district" not in home


def test_new_contact_points_are_appended_and_cleared_ones_removed() -> None:
    bare = {"resourceType": "Patient", "id": "p1"}
    wanted = Demographics("555 0100", "a@example.org", Address("1 Main St", "", "Town", "OR", "97001"))
    updated = apply_changes(bare, changes_between(Demographics(), wanted))
    assert updated["telecom"] == [
        {"system": "phone", "value": "555 0100"},
        {"system": "email", "value": "a@example.org"},
    ]
    assert updated["address"] == [
        {"use": "home", "line": ["1 Main St"], "city": "Town", "state": "OR", "postalCode": "97001"}
    ]
    cleared = changes_between(wanted, Demographics("", "", Address()))
    assert cleared == {"phone": {"from": "555 0100", "to": ""}, "email": {"from": "a@example.org", "to": ""}}
    assert "telecom" not in apply_changes(updated, cleared)


def test_clearing_removes_only_the_value_the_patient_saw() -> None:
    source = patient_source()  # phones: work, mobile (shown), old
    changes = changes_between(make_patient(source).demographics, Demographics("", "", Address()))
    twice = apply_changes(apply_changes(source, changes), changes)
    phones = [t["value"] for t in twice["telecom"] if t.get("system") == "phone"]
    assert phones == ["(03) 5555 6473", "(03) 5555 8834"]


def test_mark_arrived_changes_only_the_status() -> None:
    source = appointment_source()
    arrived = mark_arrived(source)
    assert arrived["status"] == "arrived"
    assert {k: v for k, v in arrived.items() if k not in ("status", "meta")} == {
        k: v for k, v in source.items() if k not in ("status", "meta")
    }
    assert source["status"] == "booked"  # the input is not mutated
    assert same_content({**source, "status": "arrived"}, arrived)


text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -", max_size=12).map(str.strip)
addresses = st.builds(Address, text, text, text, text, text, st.sampled_from(["", "US"]))
demographics = st.builds(Demographics, text, text, addresses)


@settings(max_examples=150, deadline=None)
@given(first=demographics, second=demographics)
def test_change_sets_reapply_harmlessly_and_read_back(first: Demographics, second: Demographics) -> None:
    source = patient_source()
    changes = changes_between(shown(source), first)
    once = apply_changes(source, changes)
    assert apply_changes(once, changes) == once  # a replay (after a 412) changes nothing more
    after = shown(once)
    if first.email:
        assert after.email == first.email
    if first.phone and first.phone != shown(source).phone:
        assert first.phone in [t.get("value") for t in once["telecom"]]
    # re-applying a later change set on a version someone else changed keeps their other edits
    later = changes_between(after, second)
    fresh = copy.deepcopy(once)
    fresh["gender"] = "other"
    again = apply_changes(fresh, later)
    assert again["gender"] == "other"
    assert apply_changes(again, later) == again
