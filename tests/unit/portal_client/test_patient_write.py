"""Change sets on Patient/Appointment: minimal, re-appliable on a fresh version, never touching the rest."""

from __future__ import annotations

import copy

from checkin_factory import appointment_source, patient_source
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.flow.types import Address, Demographics
from portal_client.fhir.patient_write import (
    apply_changes,
    apply_demographics,
    changes_between,
    demographics_of,
    mark_arrived,
    same_content,
)


def test_preferred_contact_points_of_the_hl7_example() -> None:
    demo = demographics_of(patient_source())
    assert demo.phone == "(03) 5555 6473"  # rank 1 (work); not the "old" one
    assert demo.email == ""
    assert demo.address == Address("534 Erewhon St", "", "PleasantVille", "Vic", "3999", "")


def test_change_set_holds_only_what_changed() -> None:
    source = patient_source()
    current = demographics_of(source)
    wanted = Demographics(phone=current.phone, email="new@example.org", address=current.address)
    assert changes_between(source, wanted) == {"email": "new@example.org"}
    # an empty country means "keep what is there"
    assert (
        changes_between(
            source,
            Demographics(current.phone, "", Address("534 Erewhon St", "", "PleasantVille", "Vic", "3999")),
        )
        == {}
    )
    # an all-empty address means "not given", never "delete"
    assert changes_between(source, Demographics(current.phone, "", Address())) == {}


def test_staff_edit_made_meanwhile_survives_reapplication() -> None:
    source = patient_source()
    changes = changes_between(
        source, Demographics(phone="555 0100", email="", address=demographics_of(source).address)
    )
    assert set(changes) == {"phone"}
    fresh = copy.deepcopy(source)  # staff changed the address and added a name meanwhile
    fresh["address"][0]["city"] = "Shelbyville"
    fresh["name"].append({"use": "nickname", "given": ["Pete"]})
    fresh["meta"]["versionId"] = "8"
    updated = apply_changes(fresh, changes)
    assert updated["address"][0]["city"] == "Shelbyville"
    assert updated["name"][-1]["given"] == ["Pete"]
    assert demographics_of(updated).phone == "555 0100"
    assert "versionId" not in updated["meta"]


def test_new_contact_points_are_appended_and_cleared_ones_removed() -> None:
    bare = {"resourceType": "Patient", "id": "p1"}
    updated = apply_demographics(
        bare, Demographics("555 0100", "a@example.org", Address("1 Main St", "", "Town", "OR", "97001"))
    )
    assert updated["telecom"] == [
        {"system": "phone", "value": "555 0100"},
        {"system": "email", "value": "a@example.org"},
    ]
    assert updated["address"] == [
        {"use": "home", "line": ["1 Main St"], "city": "Town", "state": "OR", "postalCode": "97001"}
    ]
    changes = changes_between(updated, Demographics("", "", Address()))
    assert changes == {
        "phone": "",
        "phone_removed": "555 0100",
        "email": "",
        "email_removed": "a@example.org",
    }
    cleared = apply_changes(updated, changes)
    assert "telecom" not in cleared


def test_clearing_removes_only_the_value_the_patient_saw() -> None:
    source = patient_source()  # phones: work (rank 1), mobile (rank 2), old
    changes = changes_between(source, Demographics("", "", Address()))
    once = apply_changes(source, changes)
    twice = apply_changes(once, changes)
    phones = [t["value"] for t in twice["telecom"] if t.get("system") == "phone"]
    assert phones == ["(03) 3410 5613", "(03) 5555 8834"]


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
def test_change_sets_reapply_harmlessly(first: Demographics, second: Demographics) -> None:
    source = patient_source()
    changes = changes_between(source, first)
    once = apply_changes(source, changes)
    assert apply_changes(once, changes) == once  # a replay (after a 412) changes nothing more
    shown = demographics_of(once)
    for name in ("phone", "email"):
        if getattr(first, name):
            assert getattr(shown, name) == getattr(first, name)
    if any(vars(first.address).values()):
        assert shown.address.city == first.address.city
        assert shown.address.line1 == (first.address.line1 or first.address.line2)
    # re-applying a change set on a version someone else changed keeps their other edits
    later = changes_between(once, second)
    fresh = copy.deepcopy(once)
    fresh["gender"] = "other"
    again = apply_changes(fresh, later)
    assert again["gender"] == "other"
    assert apply_changes(again, later) == again
