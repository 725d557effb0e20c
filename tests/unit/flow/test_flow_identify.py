"""Identification: name + DOB, ID barcodes (AAMVA), reminder QR tokens, attempts, back-end failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flow_driver import Practice, desk, identify, make_practice, name_dob, show
from flow_fakes import MARIA, NOW, PUBLIC, SAMPLE, SECRET, TWIN_A, load_aamva

from kiosk.flow.reminder import make_token
from kiosk.flow.results import Step
from kiosk.flow.types import DeskReason


def start(p: Practice) -> None:
    show(p.flow.submit({"action": "start"}), Step.IDENTIFY)


def test_name_dob_not_found_then_found(practice: Practice) -> None:
    p = practice
    start(p)
    wrong = show(p.flow.submit({**name_dob(), "given": "Mara"}), Step.IDENTIFY)
    assert wrong.errors == {"base": "not_found"}
    assert wrong.data["attempts_left"] == 2
    # The other patient with the same birth date is never shown or matched.
    assert "first_name" not in wrong.data
    ok = show(p.flow.submit(name_dob()), Step.CONFIRM_APPOINTMENT)
    assert ok.data["first_name"] == "María José"
    assert p.flow.session.started_at == NOW


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("MARIA JOSE", "GARCIA-LOPEZ"),
        ("  maría   josé ", "García López"),
        ("Maria", "garcialopez"),
        ("María-José", "Garcia Lopez"),
    ],
)
def test_name_normalization(practice: Practice, given: str, family: str) -> None:
    start(practice)
    ok = practice.flow.submit(
        {"action": "name_dob", "given": given, "family": family, "birth_date": "1980-04-12"}
    )
    show(ok, Step.CONFIRM_APPOINTMENT)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"given": "", "family": "", "birth_date": ""},
            {"given": "required", "family": "required", "birth_date": "required"},
        ),
        ({"given": "A", "family": "B", "birth_date": "04/12/1980"}, {"birth_date": "invalid_date"}),
        ({"given": "A", "family": "B", "birth_date": "1980-02-30"}, {"birth_date": "invalid_date"}),
        ({"given": "A", "family": "B", "birth_date": "2025-03-11"}, {"birth_date": "future_date"}),
        ({"given": "A", "family": "B", "birth_date": "1066-10-14"}, {"birth_date": "invalid_date"}),
        ({"given": 5, "family": None}, {"given": "required", "family": "required", "birth_date": "required"}),
    ],
)
def test_name_dob_validation_uses_no_attempt(
    practice: Practice, fields: dict[str, object], errors: dict[str, str]
) -> None:
    p = practice
    start(p)
    result = show(p.flow.submit({"action": "name_dob", **fields}), Step.IDENTIFY)
    assert result.errors == errors
    assert result.data["attempts_left"] == 3
    assert p.directory.calls == []


def test_attempts_exhausted_goes_to_desk_without_record(practice: Practice) -> None:
    p = practice
    start(p)
    for left in (2, 1):
        r = show(p.flow.submit({**name_dob(), "family": "Smith"}), Step.IDENTIFY)
        assert r.data["attempts_left"] == left
    result = desk(p.flow.submit({**name_dob(), "family": "Smith"}), "not_found")
    assert result.summary["display_name"] == "" and result.summary["synced_later"] is False
    assert p.sink.records == [] and p.printer is not None and p.printer.tickets == []
    # Going back and starting again does not give new attempts (the session is the same).
    assert p.flow.submit(name_dob()) is result


def test_ambiguous_identity_goes_to_desk(practice: Practice) -> None:
    start(practice)
    result = desk(practice.flow.submit(name_dob(TWIN_A)), "ambiguous_identity")
    assert result.summary["display_name"] == ""
    assert practice.sink.records == []


def test_backend_down_at_identify_uses_no_attempt(practice: Practice) -> None:
    p = practice
    start(p)
    p.directory.fail.add("find_patients")
    r = show(p.flow.submit(name_dob()), Step.IDENTIFY)
    assert r.errors == {"base": "backend_unavailable"} and r.data["attempts_left"] == 3
    p.directory.fail.clear()
    show(p.flow.submit(name_dob()), Step.CONFIRM_APPOINTMENT)


def test_backend_down_at_appointment_lookup_goes_to_desk_with_record(practice: Practice) -> None:
    p = practice
    p.directory.fail.add("appointments_on")
    result = desk(identify(p), "backend_unavailable")
    (record,) = p.sink.records
    assert record.needs_staff and record.desk_reason == DeskReason.BACKEND_UNAVAILABLE
    assert record.patient == MARIA and record.appointment is None and record.checkin_id == "checkin0001"
    assert result.summary["display_name"] == "María José G." and result.summary["synced_later"] is True
    assert p.printer is not None
    (ticket,) = p.printer.tickets
    assert ticket.desk and ticket.queue_number == "A-001" == result.summary["queue_number"]


# -- ID barcodes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "patient"),
    [("01-VA-v01.txt", PUBLIC), ("02-VA-v10.txt", SAMPLE), ("03-VA-v08.txt", SAMPLE)],
)
def test_aamva_barcode_identifies(practice: Practice, fixture: str, patient: object) -> None:
    p = practice
    start(p)
    result = show(p.flow.submit({"action": "barcode", "text": load_aamva(fixture)}), Step.CONFIRM_APPOINTMENT)
    assert p.flow.session.patient == patient
    assert result.data["appointments"][0]["id"] in ("appt-public", "appt-sample")


def test_aamva_scanned_on_welcome_starts_checkin(practice: Practice) -> None:
    result = practice.flow.submit({"action": "barcode", "text": load_aamva("02-VA-v10.txt")})
    show(result, Step.CONFIRM_APPOINTMENT)
    assert practice.flow.session.started_at == NOW


def test_aamva_without_dob_is_unreadable(practice: Practice) -> None:
    text = load_aamva("02-VA-v10.txt").replace("DBB06061986\n", "")
    result = show(practice.flow.submit({"action": "barcode", "text": text}), Step.IDENTIFY)
    assert result.errors == {"base": "id_unreadable"}
    assert result.data["attempts_left"] == 3


def test_aamva_with_a_future_birth_date_is_unreadable(practice: Practice) -> None:
    """The flow passes the practice's local date to the parser: a DOB after "today" is refused."""
    text = load_aamva("02-VA-v10.txt").replace("DBB06061986", "DBB03112025")  # the day after NOW
    result = show(practice.flow.submit({"action": "barcode", "text": text}), Step.IDENTIFY)
    assert result.errors == {"base": "id_unreadable"}
    assert result.data["attempts_left"] == 3 and practice.directory.calls == []
    today = text.replace("DBB03112025", "DBB03102025")  # born "today": not in the future
    show(practice.flow.submit({"action": "barcode", "text": today}), Step.IDENTIFY)
    assert practice.directory.calls  # parsed and looked up (nobody matches)


def test_expired_id_still_identifies(practice: Practice, caplog: pytest.LogCaptureFixture) -> None:
    """Expiry 2024-12-10 is before NOW (2025-03-10): flagged, not refused."""
    text = load_aamva("02-VA-v10.txt")
    assert "DBA12102024" in text
    caplog.set_level("INFO", logger="kiosk.flow.machine")
    show(practice.flow.submit({"action": "barcode", "text": text}), Step.CONFIRM_APPOINTMENT)
    assert practice.flow.session.patient == SAMPLE
    assert any("expired" in r.getMessage() for r in caplog.records)


def test_aamva_of_unknown_person_uses_an_attempt(practice: Practice) -> None:
    text = load_aamva("02-VA-v10.txt").replace("DBB06061986", "DBB06061987")
    result = show(practice.flow.submit({"action": "barcode", "text": text}), Step.IDENTIFY)
    assert result.errors == {"base": "not_found"} and result.data["attempts_left"] == 2


@pytest.mark.parametrize("text", ["", "hello", "https://example.org/x", "0123456789012"])
def test_unknown_barcode(practice: Practice, text: str) -> None:
    start(practice)
    result = show(practice.flow.submit({"action": "barcode", "text": text}), Step.IDENTIFY)
    assert result.errors == {"base": "barcode_not_recognized"}


# -- reminder QR ------------------------------------------------------------------------------------
def token(patient_id: str = MARIA.id, *, hours: float = 24, secret: bytes = SECRET) -> str:
    return make_token(secret, "appt-maria", patient_id, NOW + timedelta(hours=hours))


def test_reminder_qr_then_dob(practice: Practice) -> None:
    p = practice
    start(p)
    dob = show(p.flow.submit({"action": "barcode", "text": token()}), Step.IDENTIFY_DOB)
    assert dob.data == {"attempts_left": 3}
    show(p.flow.submit({"action": "dob", "birth_date": "1980-04-12"}), Step.CONFIRM_APPOINTMENT)
    assert p.flow.session.patient == MARIA and p.flow.session.token is None


def test_reminder_qr_wrong_dob_then_desk(practice: Practice) -> None:
    p = practice
    p.flow.submit({"action": "barcode", "text": token()})  # scanned on the welcome screen
    r = show(p.flow.submit({"action": "dob", "birth_date": "1980-12-04"}), Step.IDENTIFY_DOB)
    assert r.errors == {"birth_date": "dob_mismatch"} and r.data["attempts_left"] == 2
    r = show(p.flow.submit({"action": "dob", "birth_date": "12/04/1980"}), Step.IDENTIFY_DOB)
    assert r.errors == {"birth_date": "invalid_date"} and r.data["attempts_left"] == 2
    show(p.flow.submit({"action": "dob", "birth_date": "1980-04-13"}), Step.IDENTIFY_DOB)
    desk(p.flow.submit({"action": "dob", "birth_date": "1980-04-14"}), "not_found")
    assert p.sink.records == []


def test_reminder_qr_for_unknown_patient_looks_like_a_wrong_dob(practice: Practice) -> None:
    practice.flow.submit({"action": "barcode", "text": token("pat-deleted")})
    r = show(practice.flow.submit({"action": "dob", "birth_date": "1980-04-12"}), Step.IDENTIFY_DOB)
    assert r.errors == {"birth_date": "dob_mismatch"}


def test_reminder_qr_backend_down(practice: Practice) -> None:
    p = practice
    p.flow.submit({"action": "barcode", "text": token()})
    p.directory.fail.add("get_patient")
    r = show(p.flow.submit({"action": "dob", "birth_date": "1980-04-12"}), Step.IDENTIFY_DOB)
    assert r.errors == {"base": "backend_unavailable"} and r.data["attempts_left"] == 3


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (token(hours=-1), "token_expired"),
        (token(secret=b"someone-else"), "token_invalid"),
        (token()[:-3] + "AAA", "token_invalid"),
        ("CKI1.e30.AAAA", "token_invalid"),
        (token(hours=24 * 30), "token_invalid"),  # lives longer than reminder_max_age_days
    ],
)
def test_bad_reminder_tokens(practice: Practice, text: str, error: str) -> None:
    start(practice)
    result = show(practice.flow.submit({"action": "barcode", "text": text}), Step.IDENTIFY)
    assert result.errors == {"base": error}
    assert result.data["attempts_left"] == 3


def test_reminder_qr_switched_off_without_secret() -> None:
    p = make_practice(reminder_secret=b"")
    show(p.flow.submit({"action": "start"}), Step.IDENTIFY)
    assert p.flow.current.data["qr_enabled"] is False  # type: ignore[union-attr]
    r = show(p.flow.submit({"action": "barcode", "text": token()}), Step.IDENTIFY)
    assert r.errors == {"base": "barcode_not_recognized"}


def test_back_from_identify_steps(practice: Practice) -> None:
    p = practice
    start(p)
    show(p.flow.back(), Step.WELCOME)
    p.flow.submit({"action": "barcode", "text": token()})
    show(p.flow.submit({"action": "back"}), Step.IDENTIFY)
    assert p.flow.session.token is None
    # A DOB without a pending token is not accepted anywhere.
    assert show(p.flow.submit({"action": "dob", "birth_date": "1980-04-12"}), Step.IDENTIFY).errors == {
        "base": "invalid_input"
    }


def test_language_must_be_offered(practice: Practice) -> None:
    r = show(practice.flow.submit({"action": "language", "language": "fr"}), Step.WELCOME)
    assert r.errors == {"base": "invalid_input"} and practice.flow.language == "en"
