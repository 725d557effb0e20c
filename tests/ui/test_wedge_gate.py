"""The keyboard-wedge gate's timing: keys handled late after a long frame must not split a scanner's burst.

Pure timing with a fake time source (no wall clock): frames and keys are "handled" at chosen instants. The
end-to-end path through Kivy's key events is in test_identify_scan.py.
"""

from __future__ import annotations

from devices.barcode.base import Barcode
from devices.barcode.wedge import WedgeBarcodeSource
from kiosk.ui.scanning import FrameClock, WedgeKeyGate
from kiosk.ui.widgets.text_field import KeyRouter


class FakeTime:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class Released(KeyRouter):
    """A router that records what the gate hands back instead of typing it."""

    def __init__(self) -> None:
        super().__init__()
        self.typed = ""

    def type_released(self, text: str) -> None:
        self.typed += text


def run(gate: WedgeKeyGate, frame_clock: FrameClock, time: FakeTime, plan: list[tuple[float, str]]) -> None:
    """``plan``: (seconds this frame takes, keys handled at its end). Each frame ticks the frame clock first."""
    for seconds, keys in plan:
        frame_clock.tick()
        time.now += seconds
        for ch in keys:
            gate.textinput(ch)


def scanner_burst(payload: str, stall_after: int, stall: float) -> list[tuple[float, str]]:
    """A scanner typing 5 keys per 16 ms frame; one frame of the UI takes ``stall`` seconds."""
    chunks = [payload[i : i + 5] for i in range(0, len(payload), 5)]
    return [(stall if i == stall_after else 0.016, chunk) for i, chunk in enumerate(chunks)]


def make(clock: object | None, time: FakeTime) -> tuple[WedgeKeyGate, WedgeBarcodeSource, list[Barcode], Released]:
    source = WedgeBarcodeSource()
    got: list[Barcode] = []
    source.start(got.append)
    router = Released()
    gate = WedgeKeyGate(source, clock=clock, router=router)  # type: ignore[arg-type]
    return gate, source, got, router


PAYLOAD = "CKI1." + "x" * 120 + ".signature-part-0123456789"


def test_a_long_frame_in_the_middle_of_a_scan_does_not_split_it() -> None:
    time = FakeTime()
    frames = FrameClock(time, allowance=0.05)
    gate, source, got, router = make(frames, time)
    run(gate, frames, time, scanner_burst(PAYLOAD, stall_after=10, stall=0.4))  # a 400 ms garbage collection
    run(gate, frames, time, [(0.016, "")] * 10)
    gate.poll()
    assert [b.text for b in got] == [PAYLOAD] and router.typed == ""


def test_timed_when_handled_the_same_scan_would_split() -> None:
    time = FakeTime()
    frames = FrameClock(time)
    gate, source, got, router = make(time, time)  # the plain time source: what the frame clock prevents
    run(gate, frames, time, scanner_burst(PAYLOAD, stall_after=10, stall=0.4))
    source.poll(time() + 1)
    assert len(got) == 2 and "".join(b.text for b in got) == PAYLOAD


def test_a_person_typing_keeps_their_pauses() -> None:
    time = FakeTime()
    frames = FrameClock(time, allowance=0.05)
    gate, source, got, router = make(frames, time)
    plan: list[tuple[float, str]] = []
    for ch in "maria":
        plan += [(0.016, "")] * 12 + [(0.016, ch)]  # ~200 ms between keys, normal frames
    run(gate, frames, time, plan)
    run(gate, frames, time, [(0.016, "")] * 10)
    gate.poll()
    assert got == [] and router.typed == "maria"


def test_frame_clock_counts_each_frame_for_at_most_the_allowance() -> None:
    time = FakeTime()
    clock = FrameClock(time, allowance=0.05)
    start = clock()
    time.now += 0.02
    assert abs(clock() - start - 0.02) < 1e-9  # a normal frame: real time
    time.now += 0.5  # the same frame stalls
    assert abs(clock() - start - 0.05) < 1e-9
    clock.tick()
    after_stall = clock()
    assert abs(after_stall - start - 0.05) < 1e-9  # no jump at the next frame: time runs on from there
    for _ in range(10):
        time.now += 0.016
        clock.tick()
    assert abs(clock() - after_stall - 0.16) < 1e-9
