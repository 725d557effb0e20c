"""The simulated barcode source delivers on its own thread, like a real scanner."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from devices import registry
from devices.barcode.base import Barcode
from devices.barcode.simulated import SimulatedBarcodeSource
from devices.errors import DeviceOperationError
from devices.health import HealthStatus


class Collector:
    def __init__(self, expected: int = 1) -> None:
        self.items: list[tuple[Barcode, str]] = []
        self.expected = expected
        self.done = threading.Event()

    def __call__(self, barcode: Barcode) -> None:
        self.items.append((barcode, threading.current_thread().name))
        if len(self.items) >= self.expected:
            self.done.set()


@pytest.fixture
def source() -> Iterator[SimulatedBarcodeSource]:
    src = registry.create("barcode", "simulated", {})
    assert isinstance(src, SimulatedBarcodeSource)
    yield src
    src.stop()


def test_inject_delivers_on_the_scanner_thread(source: SimulatedBarcodeSource) -> None:
    got = Collector()
    source.start(got)
    source.inject("@\n\x1e\rANSI 636000100002DL...", format="PDF417")
    assert got.done.wait(10)
    barcode, thread_name = got.items[0]
    assert barcode.text == "@\n\x1e\rANSI 636000100002DL..."
    assert barcode.format == "PDF417" and barcode.source == "simulated"
    assert thread_name == "barcode-simulated" != threading.current_thread().name
    assert "ANSI" not in repr(barcode)  # barcode text never shows up in logs via repr


def test_order_is_kept_and_wait_idle_reports_completion(source: SimulatedBarcodeSource) -> None:
    got = Collector(expected=5)
    source.start(got)
    for n in range(5):
        source.inject(f"CODE-{n}", format="Code128")
    assert source.wait_idle(10)
    assert [b.text for b, _ in got.items] == [f"CODE-{n}" for n in range(5)]
    assert source.delivered == 5


def test_script_from_options_plays_after_start() -> None:
    src = SimulatedBarcodeSource.from_options({"script": ["first", "second"], "format": "QRCode"})
    got = Collector(expected=2)
    src.start(got)
    try:
        assert got.done.wait(10)
        assert [(b.text, b.format) for b, _ in got.items] == [("first", "QRCode"), ("second", "QRCode")]
    finally:
        src.stop()


def test_a_failing_callback_does_not_kill_the_scanner(source: SimulatedBarcodeSource) -> None:
    good = Collector()

    def callback(barcode: Barcode) -> None:
        if barcode.text == "boom":
            raise RuntimeError("consumer bug")
        good(barcode)

    source.start(callback)
    source.inject("boom")
    source.inject("fine")
    assert good.done.wait(10)
    assert [b.text for b, _ in good.items] == ["fine"]
    assert source.health().last_error == "RuntimeError"


def test_inject_before_start_or_while_unplugged_fails_loudly(source: SimulatedBarcodeSource) -> None:
    with pytest.raises(DeviceOperationError, match="not started"):
        source.inject("x")
    source.start(Collector())
    source.unplug()
    health = source.health()
    assert health.status is HealthStatus.FAULT and health.detail == "unplugged"
    with pytest.raises(DeviceOperationError, match="unplugged"):
        source.inject("x")
    source.replug()
    assert source.health().status is HealthStatus.OK


def test_start_twice_is_an_error_and_restart_after_stop_works(source: SimulatedBarcodeSource) -> None:
    source.start(Collector())
    with pytest.raises(DeviceOperationError):
        source.start(Collector())
    source.stop()
    again = Collector()
    source.start(again)
    source.inject("after restart")
    assert again.done.wait(10)
    assert again.items[0][0].text == "after restart"
