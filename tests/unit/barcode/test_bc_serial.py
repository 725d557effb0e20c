"""Serial/CDC scanners end to end through pyserial's loop:// port (bytes written come back as reads)."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
import serial

from devices import registry
from devices.barcode.base import Barcode
from devices.barcode.samples import aamva_payload
from devices.barcode.serial_source import SerialBarcodeSource
from devices.errors import DeviceSetupError
from devices.health import HealthStatus
from kiosk.flow import aamva


class Collector:
    def __init__(self) -> None:
        self.items: list[tuple[Barcode, str]] = []

    def __call__(self, barcode: Barcode) -> None:
        self.items.append((barcode, threading.current_thread().name))


def started(options: dict[str, Any]) -> tuple[SerialBarcodeSource, Collector]:
    source = registry.create("barcode", "serial", options)
    assert isinstance(source, SerialBarcodeSource)
    got = Collector()
    source.start(got)
    assert source.wait_connected(True)
    return source, got


def test_an_aamva_card_arrives_whole_with_its_control_characters() -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28), middle="LUZ")
    source, got = started({"port": "loop://", "gap": 0.05})
    try:
        source.port.write(payload.encode("ascii"))
        assert source.wait_delivered(1)
        barcode, thread = got.items[0]
        assert barcode == Barcode(format="PDF417", text=payload.rstrip("\r\n"), source="serial")
        assert "\x1e" in barcode.text and thread == "barcode-serial"
        assert aamva.parse(barcode.text).middle == "LUZ"
    finally:
        source.stop()
    assert source.health().status is HealthStatus.OK


def test_suffix_framing_splits_back_to_back_scans() -> None:
    source, got = started({"port": "loop://", "suffix": "\r\n", "gap": 0.5})
    try:
        source.port.write(b"]Q1CKI1.a.b\r\nPAT-1\r\n\xe9t\xe9\r\n")
        assert source.wait_delivered(3)
        assert [(b.format, b.text) for b, _ in got.items] == [("QRCode", "CKI1.a.b"), ("unknown", "PAT-1"),
                                                              ("unknown", "\u00e9t\u00e9")]  # Latin-1 bytes
    finally:
        source.stop()


class FlakyPorts:
    """Opens loop:// ports; the first one dies on its first read (a USB CDC scanner unplugged)."""

    def __init__(self) -> None:
        self.opened = 0
        self.fail_next_open = False
        self.second = threading.Event()

    def __call__(self) -> Any:
        if self.fail_next_open:
            self.fail_next_open = False
            raise serial.SerialException("no such device")
        self.opened += 1
        port = serial.serial_for_url("loop://", timeout=0.02)
        if self.opened == 2:
            self.second.set()
        if self.opened == 1:
            def vanish(size: int = 1) -> bytes:
                self.fail_next_open = True
                raise serial.SerialException("device reports readiness to read but returned no data")

            port.read = vanish
        return port


def test_a_vanished_port_is_reopened() -> None:
    ports = FlakyPorts()
    source = SerialBarcodeSource("loop://", gap=0.02, reconnect_interval=0.01, port_factory=ports)
    got = Collector()
    source.start(got)
    try:
        # The first port dies on its first read, the next open fails, the one after works.
        assert ports.second.wait(10)
        assert source.wait_connected(True) and ports.opened == 2
        assert source.health().status is HealthStatus.OK
        assert source.health().last_error == "SerialException"
        source.port.write(b"PAT-2")
        assert source.wait_delivered(1)
        assert got.items[0][0].text == "PAT-2"
    finally:
        source.stop()


def test_options_are_checked() -> None:
    with pytest.raises(DeviceSetupError, match="port"):
        registry.create("barcode", "serial", {})
    with pytest.raises(DeviceSetupError, match="unknown option"):
        registry.create("barcode", "serial", {"port": "loop://", "speed": 1})
