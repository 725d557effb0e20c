"""Auto-capture over successive frames (injected clock), and the capture worker on a replaying camera."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from ins_photos import FIXTURES

from devices.camera.simulated import SimulatedCamera
from devices.insurance.base import Guidance, Quality
from devices.insurance.capture import (
    AutoCapture,
    CaptureEvent,
    CapturePolicy,
    CapturingEvent,
    CardCapture,
    GuidanceEvent,
    SideReadEvent,
)
from devices.insurance.simulated import SimulatedCardReader

CORNERS = ((100.0, 100.0), (600.0, 100.0), (600.0, 415.0), (100.0, 415.0))


def ok(dx: float = 0.0) -> Quality:
    return Quality(Guidance.OK, tuple((x + dx, y) for x, y in CORNERS), 0.5, 500.0, 0.0, (1280, 720))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_captures_after_steady_good_frames_newest_first() -> None:
    machine = AutoCapture(CapturePolicy(steady_frames=3, keep_frames=2), Clock())
    steps = [machine.feed(f"frame{i}", ok()) for i in range(3)]
    assert [s.steady for s in steps] == [1, 2, 3]
    assert steps[0].frames is None and steps[1].frames is None
    assert steps[2].frames == ("frame2", "frame1")
    assert machine.feed("frame3", ok()).frames is None  # once per side


def test_a_bad_frame_or_motion_restarts_the_count() -> None:
    machine = AutoCapture(CapturePolicy(steady_frames=3), Clock())
    machine.feed("a", ok())
    machine.feed("b", ok())
    assert machine.feed("c", Quality(Guidance.TILT_FOR_GLARE, CORNERS)).steady == 0
    machine.feed("d", ok())
    moved = machine.feed("e", ok(dx=40.0))  # 40 px on a 500-px card: > 2 %
    assert moved.guidance is Guidance.HOLD_STILL and moved.steady == 0
    assert machine.feed("f", ok(dx=40.0)).steady == 1


def test_manual_hint_after_the_time_without_capture() -> None:
    clock = Clock()
    machine = AutoCapture(CapturePolicy(hint_after=10.0), clock)
    assert not machine.feed("a", Quality(Guidance.CARD_NOT_FOUND)).manual_hint
    clock.now = 10.5
    step = machine.feed("b", Quality(Guidance.CARD_NOT_FOUND))
    assert step.manual_hint and step.guidance is Guidance.CARD_NOT_FOUND
    machine.reset()
    assert not machine.feed("c", Quality(Guidance.CARD_NOT_FOUND)).manual_hint


class Events:
    def __init__(self) -> None:
        self.items: list[CaptureEvent] = []
        self.cond = threading.Condition()

    def __call__(self, event: CaptureEvent) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait_for(self, kind: type, count: int = 1, timeout: float = 30.0) -> list[Any]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.of(kind)) >= count, timeout=timeout)
            return self.of(kind)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.items if isinstance(e, kind)]


def test_worker_reads_front_then_back_from_a_replaying_camera(manifest: dict) -> None:
    entry = manifest["cards"][0]
    camera = SimulatedCamera([FIXTURES / p["file"] for p in entry["photos"] if p["level"] == "mild"], fps=60)
    reader = SimulatedCardReader()
    events = Events()
    capture = CardCapture(camera, reader, events, policy=CapturePolicy(steady_frames=2), max_rate=60)
    camera.start()
    try:
        capture.start("front")
        read = events.wait_for(SideReadEvent)
        assert read and read[0].side == "front" and read[0].result.found
        assert read[0].result.fields["member_id"].value == "HPH123456789"
        assert read[0].result.image.data[:2] == b"\xff\xd8"  # a JPEG of the flattened card
        guidance = events.of(GuidanceEvent)
        assert guidance and guidance[-1].step.frames is not None
        capture.start("back")
        read = events.wait_for(SideReadEvent, 2)
        assert [e.side for e in read] == ["front", "back"]
    finally:
        capture.stop()
        camera.stop()


def test_manual_button_reads_even_without_a_card() -> None:
    camera = SimulatedCamera(fps=60, width=1280, height=720)  # a grey test pattern: no card
    events = Events()
    capture = CardCapture(camera, SimulatedCardReader(), events, max_rate=60)
    camera.start()
    try:
        capture.start("front")
        events.wait_for(GuidanceEvent)
        assert events.of(GuidanceEvent)[0].quality.guidance is Guidance.CARD_NOT_FOUND
        capture.capture_now()
        read = events.wait_for(SideReadEvent)
        assert events.of(CapturingEvent)[0].manual
        assert not read[0].result.found and read[0].result.fields == {}  # the photo is kept, nothing read
    finally:
        capture.stop()
        camera.stop()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        CapturePolicy(steady_frames=0)
    with pytest.raises(ValueError):
        CardCapture(SimulatedCamera(), SimulatedCardReader(), lambda e: None).start("middle")
