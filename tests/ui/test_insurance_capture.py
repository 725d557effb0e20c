"""The insurance card photographed at the kiosk, end to end: the real runtime (config/default.toml) with the
simulated camera replaying photos of a card (tests/fixtures/insurance/photos) and the real tesseract card
reader, the real KioskApp in the offscreen window, the real FHIR sandbox.

- A card photographed front and back, read, one field corrected on the keyboard, confirmed: after the sync
  the sandbox holds the Coverage with the member ID read from the photo and both pictures as
  DocumentReferences linked to it (``context.related``). The patient first holds the card with a shine on it
  (guidance, no capture), then well (auto-capture), then turns it over (the back waits for the turn).
- Nothing in front of the camera: guidance, the hint after a while (Kivy's clock is advanced: no waiting),
  "Take picture" finds no card and says so kindly, then "Type in my card instead" works.

Screenshots land in /tmp/ui-insurance for a human to look at.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from kiosk_env import Fhir, runtime_for, walker_for

from devices.barcode.decode import decode_image
from devices.barcode.samples import aamva_payload
from kiosk.ui.walker import Walker
from portal_client.sandbox.seed import DEMO_RETURNING

pytestmark = [pytest.mark.ui, pytest.mark.sandbox]

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "insurance" / "photos"
FRONT = PHOTOS / "card-00-front-mild.jpg"  # Evergreen Health Plan, member ID 16517286233
BACK = PHOTOS / "card-00-back-mild.jpg"  # its back: Rx numbers and a PDF417 (MBR=…;GRP=…)
GLARE = PHOTOS / "card-09-front-mild.jpg"  # another card with a shine on it: "tilt", never captured
MEMBER_ID = "16517286233"
PAYER = "Evergreen Health Plan"
SHOTS = Path("/tmp/ui-insurance")


@pytest.fixture
def camera_kiosk(sandbox_seed: Any, tmp_path: Path, ui: Any) -> Iterator[Callable[..., Walker]]:
    """``camera_kiosk(image, reader="tesseract")``: the kiosk whose simulated camera replays ``image``."""
    opened: list[Iterator[Any]] = []

    def make(image: Path, reader: str = "tesseract") -> Walker:
        devices = {
            "camera": {"backend": "simulated", "images": [str(image)], "fps": 15},
            "insurance": {"backend": reader},
        }
        runtimes = runtime_for(sandbox_seed, tmp_path, devices=devices)
        runtime = next(runtimes)
        walkers = walker_for(runtime, ui)
        opened.extend([runtimes, walkers])
        return next(walkers)

    yield make
    for generator in reversed(opened):
        generator.close()


def wait_until(w: Walker, condition: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    """Run frames until ``condition()`` (camera and capture threads are real: poll, never sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} on {w.step}")
        w.ui.frames(1)


def to_insurance(w: Walker) -> Any:
    """The returning patient scans their ID and confirms: the insurance step, with the card on file."""
    p = DEMO_RETURNING
    w.scan(aamva_payload(given=p.given, family=p.family, dob=p.birth_date))
    w.expect("confirm_appointment")
    w.tap_and_settle(w.primary())
    w.expect("demographics")
    w.tap_and_settle(w.primary())
    return w.expect("insurance")


def blank_frame(path: Path) -> Path:
    frame = np.full((720, 1280, 3), 96, np.uint8)  # an empty grey wall: no card anywhere
    assert cv2.imwrite(str(path), frame)
    return path


# -- a card photographed, read, confirmed, linked ------------------------------------------------------------
def test_card_photographed_read_confirmed_and_linked_to_the_coverage(
    camera_kiosk: Any, sandbox_seed: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    w = camera_kiosk(GLARE)
    camera = w.app.runtime.devices.camera
    ins = to_insurance(w)
    assert ins.has_card and ins.has_camera and ins.stage == "choose"
    w.tap(w.find_button("Take a picture of my new card"))
    capture = ins.ids.capture
    assert ins.stage == "capture" and capture.side == "front" and capture.running
    assert w.primary().text == "Take picture" and not w.primary().disabled  # the manual button, always there
    for text in ("Type in my card instead", "I will pay for this visit myself", "I do not have my card with me"):
        w.find_button(text)  # the other ways forward stay on screen

    # A shine on the card: guidance, the finder's outline drawn, no capture.
    preview = capture.ids.preview
    wait_until(w, lambda: capture.guidance == "Tilt your card a little. There is a shine on it.", "glare words")
    wait_until(w, lambda: len(preview.found) == 10 and preview.status == "live", "the card's outline")
    assert not capture.good and capture.steady == 0 and "front" not in capture.sides
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.ui.screenshot(SHOTS / "capture-glare.png")

    # Held well: captured by itself, read; then "turn it over" until the card moves.
    camera.play([FRONT])
    wait_until(w, lambda: "front" in capture.sides, "the front to be read")
    assert capture.side == "back" and capture.turn_over and capture.guidance == "Now turn your card over"
    assert ins.ids.layout.title == "Now the back of your card"
    w.find_button("My card has nothing on the back")
    w.ui.screenshot(SHOTS / "capture-turn-over.png")
    camera.play([FRONT] * 10 + [BACK])  # the front held a moment longer (not taken again), then the back
    wait_until(w, lambda: ins.stage == "confirm", "the back to be read", timeout=60.0)
    assert not capture.running and preview.status == "off"  # the camera is off again

    # Confirm: the member ID masked until tapped; a field read badly (or not at all) corrected.
    confirm = ins.ids.confirm
    draft = ins.draft
    assert draft.values["member_id"] == MEMBER_ID
    assert {i.side for i in draft.images} == {"front", "back"}
    member_row = confirm._rows["member_id"]
    assert member_row.value == "•••• 6233" and MEMBER_ID not in member_row.value
    w.ui.screenshot(SHOTS / "confirm.png")
    w.tap(member_row.ids.value)
    assert member_row.value == MEMBER_ID
    w.tap(member_row.ids.value)
    assert member_row.value == "•••• 6233"
    payer_row = confirm._rows["payer_name"]
    if draft.values["payer_name"] != PAYER:
        w.tap(payer_row.ids.change)
        assert ins.stage == "manual" and ins.correcting
        assert w.primary().text == "Done"
        field = ins.ids.wizard.field
        while field.text:
            w.tap(ins.keyboard.key_button("backspace"))
        w.type_keys(ins.keyboard, PAYER)
        w.tap(w.primary())  # Done: back to the rows
        assert ins.stage == "confirm" and payer_row.value == PAYER and not payer_row.check
    w.ui.screenshot(SHOTS / "confirm-corrected.png")
    w.tap_and_settle(w.primary())  # Yes, this is correct

    w.through_to_ticket()
    w.tap_and_settle(w.primary())  # Finish
    w.expect("done")
    checkin_id = w.app.last_result.summary["checkin_id"]
    report = w.app.runtime.sync.drain_once()
    assert getattr(report, "dead", 0) == 0

    fhir = Fhir(sandbox_seed.base_url)
    try:
        patient_ref = f"Patient/{DEMO_RETURNING.patient_id}"
        coverages = [c for c in fhir.search("Coverage", beneficiary=patient_ref) if c.get("subscriberId") == MEMBER_ID]
        assert len(coverages) == 1
        coverage = coverages[0]
        assert coverage["payor"][0].get("display") == PAYER
        assert any(checkin_id in i.get("value", "") for i in coverage.get("identifier", []))
        docs = [d for d in fhir.search("DocumentReference", subject=patient_ref)
                if d.get("context", {}).get("related") == [{"reference": f"Coverage/{coverage['id']}"}]]
        assert sorted(d["description"] for d in docs) == ["Insurance card (back)", "Insurance card (front)"]
        for doc in docs:
            attachment = doc["content"][0]["attachment"]
            assert attachment["contentType"] == "image/jpeg"
            image = cv2.imdecode(np.frombuffer(base64.b64decode(attachment["data"]), np.uint8), cv2.IMREAD_COLOR)
            height, width = image.shape[:2]
            assert abs(width / height - 85.6 / 54) < 0.05  # the card, flattened: not the whole photo
            codes = decode_image(image, ("PDF417",), use_zbar=False)
            # the back's picture is the back (its PDF417), not the front taken twice
            assert bool(codes) == doc["description"].endswith("(back)")
    finally:
        fhir.close()

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "card side front read" in logged  # the capture's own log lines were captured
    for secret in (MEMBER_ID, "MARIA WHITE", "GR35372", "610502"):
        assert secret not in logged, "a log line holds what the card says"


# -- nothing in front of the camera ----------------------------------------------------------------------------
def test_no_card_guides_then_the_patient_types_it_in(camera_kiosk: Any, tmp_path: Path) -> None:
    w = camera_kiosk(blank_frame(tmp_path / "wall.png"), reader="simulated")
    ins = to_insurance(w)
    w.tap(w.find_button("Take a picture of my new card"))
    capture = ins.ids.capture
    wait_until(w, lambda: capture.guidance == "Hold your card inside the frame", "the guidance")
    assert capture.hint == "" and not capture.manual_hint
    type_in = w.find_button("Type in my card instead")
    assert not type_in.emphasis

    w.ui.advance_clock(13.0)  # 13 s of the patient's time without a capture (Kivy's clock, no waiting)
    wait_until(w, lambda: capture.manual_hint, "the hint")
    assert capture.hint == "Having trouble? Tap “Take picture”, or “Type in my card instead”."
    assert type_in.emphasis
    w.ui.screenshot(SHOTS / "capture-no-card-hint.png")

    w.tap(w.primary())  # "Take picture" anyway: no card in that picture, said kindly; still capturing
    wait_until(w, lambda: bool(capture.message), "the message")
    assert capture.message.startswith("We could not see your card in that picture.")
    assert ins.stage == "capture" and capture.running and not capture.reading

    w.tap(type_in)
    assert ins.stage == "manual" and not ins.correcting and not capture.running
    assert capture.ids.preview.status == "off"
    for value in ("Harbor Mutual", "HM123456789", "G-77"):
        w.type_keys(ins.keyboard, value)
        w.tap(w.primary())  # Next
    w.tap_and_settle(w.primary())  # Save my card
    w.expect("payment")
    coverage = w.app.runtime.flow.session.insurance.coverage
    assert coverage.member_id == "HM123456789" and coverage.payer_name == "Harbor Mutual"
