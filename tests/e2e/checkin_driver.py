"""Drives the real check-in flow for a crowd patient (portal_client.sandbox.crowd) the way a patient taps.

Used in-process by the outage test and as the program of the crash test's separate process:

    python tests/e2e/checkin_driver.py --config F --now ISO --first 0 --count 30 --data-dir D --key K

runs the kiosk's runtime (real flow, outbox, sync worker thread) from config F, checks in every crowd
patient whose appointment does not read as arrived yet (on the server, or waiting in this kiosk's outbox),
waits until the outbox is empty, and exits 0. It prints one line per event (``ready``, ``step <name>``,
``stored <i>``, ``sync <depth>``, ``drained``) so the test can pick kill points.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from devices.barcode.samples import aamva_payload
from kiosk.flow.results import Done, Result, Show, Step, ToDesk
from kiosk.flow.types import AppointmentStatus
from portal_client.sandbox.crowd import CrowdPatient, crowd

ARRIVED = {AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN, AppointmentStatus.FULFILLED}


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.t = now

    def now(self) -> datetime:
        return self.t


def _png() -> bytes:
    image = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 100), (120, 40), (220, 110), (380, 50)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


SIGNATURE = {
    "action": "sign",
    "strokes": [[[20 + 12 * k, 100 - (k % 5) * 12] for k in range(30)]],
    "png": _png(),
    "pad_size": [400, 150],
}


def _form_answers(items: list[dict[str, Any]]) -> dict[str, list[Any]]:
    answers: dict[str, list[Any]] = {}
    for item in items:
        kind = item["type"]
        if item.get("items"):
            answers.update(_form_answers(item["items"]))
        if item.get("read_only") or kind in ("display", "group"):
            continue
        if kind in ("choice", "open-choice") and item.get("options"):
            value: Any = item["options"][0]["key"]
        elif kind == "boolean":
            value = False
        elif kind == "integer":
            value = 1
        elif kind == "decimal":
            value = "1.5"
        elif kind == "date":
            value = "2020-01-01"
        else:
            value = "none"
        answers[item["link_id"]] = [value]
    return answers


def answer(result: Show, p: CrowdPatient, *, new_card: bool = False) -> dict[str, Any]:
    """What patient ``p`` taps on this screen. ``new_card``: a "forms" patient types a new insurance card
    (their check-in Bundle then has 9 entries: two transactions on a server capped at 8)."""
    step = result.step
    if step in (Step.WELCOME, Step.IDENTIFY):
        return {"action": "barcode", "text": aamva_payload(given=p.given, family=p.family, dob=p.birth_date)}
    if step == Step.CONFIRM_APPOINTMENT:
        return {"action": "confirm", "appointment_id": p.appointment_id}
    if step == Step.DEMOGRAPHICS:
        if p.shape != "forms":
            return {"action": "confirm"}
        values = dict(result.data["values"])
        values["phone"] = f"(555) 600-{p.index % 10000:04d}"
        return {"action": "save", "values": values}
    if step == Step.INSURANCE:
        if new_card and p.shape == "forms":
            return {"action": "manual", "payer_name": "Acme Health Plan", "member_id": f"NEW{p.member_id}",
                    "group_number": "G-1", "subscriber_name": ""}  # fmt: skip
        return {"action": "same"} if result.data.get("on_file") else {"action": "self_pay"}
    if step == Step.FORMS:
        return {"action": "next", "answers": _form_answers(result.data["items"])}
    if step == Step.CONSENTS:
        return SIGNATURE
    if step == Step.PAYMENT:
        return {"action": "pay"}
    if step == Step.TICKET:
        return {"action": "done"}
    raise AssertionError(f"no answer for step {step}")


def check_in(flow: Any, p: CrowdPatient, on_step: Any = None, *, new_card: bool = False) -> Result:
    """One whole check-in through ``flow``; the final result (Done, or ToDesk)."""
    result = flow.start()
    seen: list[tuple[str, tuple[str, ...]]] = []
    while isinstance(result, Show):
        key = (str(result.step), tuple(sorted(result.errors.items())))
        if result.errors and key in seen:
            raise AssertionError(f"stuck on {result.step} with errors {dict(result.errors)}")
        seen.append(key)  # type: ignore[arg-type]
        if on_step is not None:
            on_step(str(result.step))
        result = flow.submit(answer(result, p, new_card=new_card))
    return result


def arrived(directory: Any, p: CrowdPatient) -> bool:
    """The kiosk already knows this visit as checked in (the server says so, or a row in its outbox)."""
    appointment = directory.get_appointment(p.appointment_id)
    return appointment is not None and appointment.status in ARRIVED


# -- the separate process of the crash test ------------------------------------------------------------------
def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--new-cards", action="store_true", help='"forms" patients type a new insurance card')
    args = parser.parse_args(argv)

    from kiosk.runtime.build import build_runtime
    from kiosk.settings import load_settings

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    now = datetime.fromisoformat(args.now)
    runtime = build_runtime(load_settings(Path(args.config)), clock=FixedClock(now))
    runtime.sync.subscribe(lambda state: _say(f"sync {state.depth}"))
    runtime.start()
    _say("ready")
    try:
        for p in crowd(args.count, now, first=args.first):
            if arrived(runtime.directory, p):
                continue
            result = check_in(runtime.flow, p, on_step=lambda step: _say(f"step {step}"), new_card=args.new_cards)
            if not isinstance(result, Done):
                _say(f"desk {p.index} {getattr(result, 'reason', '')}")
                return 3
            _say(f"stored {p.index}")
        give_up = time.monotonic() + args.deadline
        while runtime.outbox.counts().depth or runtime.outbox.counts().dead:
            if runtime.outbox.counts().dead:
                _say("dead rows")
                return 4
            if time.monotonic() > give_up:
                _say("not drained")
                return 5
            runtime.sync.wake()
            time.sleep(0.05)
        _say("drained")
        return 0
    finally:
        runtime.stop()


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ToDesk", "answer", "arrived", "check_in", "crowd"]
