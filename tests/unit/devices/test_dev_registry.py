"""devices.registry: config strings → backends, lazy imports, loud failures (no silent fallback)."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devices import registry
from devices.barcode.base import BarcodeSource
from devices.camera.base import Camera
from devices.errors import DeviceSetupError
from devices.options import OptionReader
from devices.payment.base import PaymentDevice
from devices.printer.base import PrinterDevice
from devices.smartcard.base import CardReader
from kiosk.flow.ports import PaymentTerminal, TicketPrinter

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def backends(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, str]]:
    """A private copy of BACKENDS so tests may register backends freely."""
    table = copy.deepcopy(registry.BACKENDS)
    monkeypatch.setattr(registry, "BACKENDS", table)
    return table


def test_unknown_kind_names_the_known_kinds() -> None:
    with pytest.raises(DeviceSetupError) as err:
        registry.create("scanner", "simulated", {})
    message = str(err.value)
    assert "unknown device kind 'scanner'" in message
    for kind in ("camera", "barcode", "smartcard", "payment", "printer"):
        assert repr(kind) in message


def test_unknown_backend_lists_the_known_backends() -> None:
    with pytest.raises(DeviceSetupError) as err:
        registry.create("printer", "epson-usb-typo", {})
    assert "unknown printer backend 'epson-usb-typo'" in str(err.value)
    assert "'simulated'" in str(err.value)


def test_available_backends() -> None:
    assert "simulated" in registry.available_backends("payment")
    with pytest.raises(DeviceSetupError):
        registry.available_backends("toaster")


def test_importing_the_registry_imports_no_hardware_library() -> None:
    code = textwrap.dedent(
        """
        import sys
        from devices import registry
        heavy = {"cv2", "escpos", "smartcard", "zxingcpp", "pyzbar", "numpy", "segno"}
        assert not heavy & set(sys.modules), heavy & set(sys.modules)
        registry.create("payment", "simulated", {})
        registry.create("smartcard", "simulated", {})
        assert not heavy & set(sys.modules), heavy & set(sys.modules)
        registry.create("printer", "simulated", {})
        assert "escpos" in sys.modules and "cv2" not in sys.modules
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_missing_library_names_the_pip_extra(
    backends: dict[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needs_missing_lib.py").write_text("import kiosk_test_missing_lib\nclass Thing: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.EXTRAS, "kiosk_test_missing_lib", "printer")
    registry.register("printer", "acme", "needs_missing_lib:Thing")
    with pytest.raises(DeviceSetupError) as err:
        registry.create("printer", "acme", {})
    message = str(err.value)
    assert "printer backend 'acme'" in message
    assert "'kiosk_test_missing_lib'" in message
    assert "pip install 'open-checkin-kiosk[printer]'" in message
    assert backends["printer"]["acme"] == "needs_missing_lib:Thing"


def test_a_missing_backend_module_is_reported(backends: dict[str, dict[str, str]]) -> None:
    registry.register("camera", "ghost", "devices.camera.no_such_module:Ghost")
    with pytest.raises(DeviceSetupError, match="module 'devices.camera.no_such_module' cannot be found"):
        registry.backend_class("camera", "ghost")


def test_a_target_that_is_not_a_class_is_reported(backends: dict[str, dict[str, str]]) -> None:
    registry.register("camera", "notaclass", "devices.registry:BACKENDS")
    with pytest.raises(DeviceSetupError, match="does not name a class"):
        registry.create("camera", "notaclass", {})


def test_register_needs_module_colon_class() -> None:
    with pytest.raises(ValueError):
        registry.register("camera", "bad", "devices.camera.simulated.SimulatedCamera")


@pytest.mark.parametrize(
    ("kind", "options", "fragment"),
    [
        ("payment", {"outcome": "maybe"}, "option 'outcome' = 'maybe' is invalid; expected one of 'approve'"),
        ("payment", {"delay": "fast"}, "option 'delay' = 'fast' is invalid; expected a number"),
        ("payment", {"delay": -1}, "expected a number >= 0.0"),
        ("payment", {"dealy": 1.5}, "unknown option(s) 'dealy'; known options: brand, delay, last4, outcome"),
        ("payment", {"last4": "42"}, "option 'last4' = '42' is invalid; expected exactly 4 digits"),
        ("camera", {"fps": True}, "option 'fps' = True is invalid; expected a number"),
        ("camera", {"images": "/nonexistent/folder"}, "option 'images' = '/nonexistent/folder'"),
        ("barcode", {"script": "just one"}, "expected a list of strings"),
        ("barcode", {"format": "pdf417"}, "expected one of 'PDF417'"),
        ("smartcard", {"readers": ["ok", 3]}, "expected a list of strings"),
        ("smartcard", {"atr": "not hex"}, "expected hexadecimal digits"),
        ("printer", {"profile": "TM-NOPE"}, "unknown escpos profile 'TM-NOPE'; known profiles:"),
        ("printer", {"timezone": "Mars/Olympus"}, "option 'timezone' = 'Mars/Olympus'"),
        ("printer", {"preview": "yes"}, "expected true or false"),
    ],
)
def test_bad_options_fail_with_a_clear_message(kind: str, options: dict[str, object], fragment: str) -> None:
    with pytest.raises(DeviceSetupError) as err:
        registry.create(kind, "simulated", options)
    assert fragment in str(err.value)
    assert f"{kind} backend 'simulated'" in str(err.value)


def test_options_must_be_a_table() -> None:
    with pytest.raises(DeviceSetupError, match="options must be a table"):
        OptionReader("payment", "simulated", ["delay", 1])  # type: ignore[arg-type]


def test_every_simulated_backend_builds_from_empty_options_and_meets_its_protocol() -> None:
    protocols: dict[str, tuple[type, ...]] = {
        "camera": (Camera,),
        "barcode": (BarcodeSource,),
        "smartcard": (CardReader,),
        "payment": (PaymentDevice, PaymentTerminal),
        "printer": (PrinterDevice, TicketPrinter),
    }
    for kind, expected in protocols.items():
        device = registry.create(kind, "simulated", {})
        for protocol in expected:
            assert isinstance(device, protocol), (kind, protocol)
        health = device.health()  # type: ignore[attr-defined]
        assert health.kind == kind and health.backend == "simulated"


def test_a_value_error_from_from_options_becomes_a_setup_error(backends: dict[str, dict[str, str]]) -> None:
    registry.register("payment", "picky", f"{__name__}:_Picky")
    with pytest.raises(DeviceSetupError, match="payment backend 'picky': bad options: nope"):
        registry.create("payment", "picky", {"x": 1})


class _Picky:
    @classmethod
    def from_options(cls, options: object) -> _Picky:
        raise ValueError("nope")
