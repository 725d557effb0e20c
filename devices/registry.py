"""Config strings → backend classes, after python-can's ``BACKENDS`` (DESIGN §4).

``backend = "simulated"`` in ``[devices.printer]`` names an entry of :data:`BACKENDS`; the module is imported
only when that backend is created, so a kiosk without OpenCV can still run a keyboard-wedge scanner. Every
failure is a :class:`DeviceSetupError` at start-up: there is no silent fallback to another backend.

Each backend class offers ``from_options(cls, options: Mapping[str, Any]) -> Self`` which validates its
options and rejects unknown keys.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from devices.errors import DeviceSetupError

log = logging.getLogger(__name__)

#: kind → {backend name → "module:Class"}
BACKENDS: dict[str, dict[str, str]] = {
    "camera": {
        "simulated": "devices.camera.simulated:SimulatedCamera",
        "opencv": "devices.camera.opencv:OpenCVCamera",
    },
    "barcode": {
        "simulated": "devices.barcode.simulated:SimulatedBarcodeSource",
        "camera": "devices.barcode.camera_source:CameraBarcodeSource",
        "wedge": "devices.barcode.wedge:WedgeBarcodeSource",
        "serial": "devices.barcode.serial_source:SerialBarcodeSource",
        "multi": "devices.barcode.multi:MultiBarcodeSource",
    },
    "smartcard": {
        "simulated": "devices.smartcard.simulated:SimulatedCardReader",
        "pcsc": "devices.smartcard.pcsc:PcscCardReader",
    },
    "payment": {
        "simulated": "devices.payment.simulated:SimulatedPaymentTerminal",
        "stripe": "devices.payment.stripe_terminal:StripeTerminal",
    },
    "insurance": {
        "simulated": "devices.insurance.simulated:SimulatedCardReader",
        "tesseract": "devices.insurance.reader:TesseractCardReader",
    },
    "printer": {
        "simulated": "devices.printer.simulated:SimulatedPrinter",
        "network": "devices.printer.network:NetworkPrinter",
        "usb": "devices.printer.usb:UsbPrinter",
        "serial": "devices.printer.serial_port:SerialPrinter",
        "file": "devices.printer.file:FilePrinter",
    },
    "speech": {
        "simulated": "devices.speech.simulated:SimulatedSpeaker",
        "espeak": "devices.speech.espeak:EspeakSpeaker",
    },
}

#: top-level import name of a hardware library → the pyproject extra that installs it
EXTRAS: dict[str, str] = {
    "cv2": "camera",
    "numpy": "camera",
    "zxingcpp": "barcode",
    "pyzbar": "barcode",
    "smartcard": "smartcard",
    "escpos": "printer",
    "qrcode": "printer",
    "segno": "printer",
    "serial": "barcode",
    "usb": "printer",  # pyusb (python-escpos[usb])
    "tesserocr": "insurance",
}

DISTRIBUTION = "open-checkin-kiosk"


def kinds() -> list[str]:
    return sorted(BACKENDS)


def available_backends(kind: str) -> list[str]:
    """Backend names known for ``kind`` (whether or not their libraries are installed)."""
    return sorted(_backends_of(kind))


def register(kind: str, backend: str, target: str) -> None:
    """Add (or replace) a backend, e.g. from a plug-in: ``register("printer", "acme", "acme_kiosk:Printer")``."""
    if ":" not in target:
        raise ValueError(f"backend target must look like 'module:Class', got {target!r}")
    BACKENDS.setdefault(kind, {})[backend] = target


def backend_class(kind: str, backend: str) -> type[Any]:
    """Import and return the class for ``kind``/``backend``. Raises DeviceSetupError."""
    target = _backends_of(kind).get(backend)
    if target is None:
        known = ", ".join(repr(b) for b in available_backends(kind))
        raise DeviceSetupError(f"unknown {kind} backend {backend!r}; known {kind} backends: {known}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeviceSetupError(_import_message(kind, backend, module_name, exc)) from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise DeviceSetupError(f"{kind} backend {backend!r}: {target!r} does not name a class")
    return cls


def create(kind: str, backend: str, options: Mapping[str, Any] | None = None) -> object:
    """Build the configured backend; fails loudly (DeviceSetupError) instead of falling back."""
    cls = backend_class(kind, backend)
    from_options = getattr(cls, "from_options", None)
    if from_options is None:
        raise DeviceSetupError(f"{kind} backend {backend!r}: {cls.__qualname__} has no from_options()")
    try:
        device = from_options(dict(options or {}))
    except DeviceSetupError:
        raise
    except (TypeError, ValueError) as exc:
        raise DeviceSetupError(f"{kind} backend {backend!r}: bad options: {exc}") from exc
    log.info("device created: kind=%s backend=%s", kind, backend)
    return device


def check_options(kind: str, backend: str, options: Mapping[str, Any] | None = None) -> None:
    """Validate a backend's options without opening anything (`kiosk config check`): the class must load,
    and its ``check_options(options)`` (when it has one) must accept them. Raises DeviceSetupError."""
    cls = backend_class(kind, backend)
    check = getattr(cls, "check_options", None)
    if check is None:
        return
    try:
        check(dict(options or {}))
    except DeviceSetupError:
        raise
    except (TypeError, ValueError) as exc:
        raise DeviceSetupError(f"{kind} backend {backend!r}: bad options: {exc}") from exc


def _backends_of(kind: str) -> dict[str, str]:
    try:
        return BACKENDS[kind]
    except KeyError:
        known = ", ".join(repr(k) for k in kinds())
        raise DeviceSetupError(f"unknown device kind {kind!r}; known kinds: {known}") from None


def _import_message(kind: str, backend: str, module_name: str, exc: ImportError) -> str:
    missing = getattr(exc, "name", None) or ""
    top = missing.split(".")[0]
    extra = EXTRAS.get(top)
    if extra is not None:
        return (
            f"{kind} backend {backend!r} needs the Python package {top!r}, which is not installed: "
            f"pip install '{DISTRIBUTION}[{extra}]'"
        )
    if missing and (missing == module_name or module_name.startswith(missing + ".")):
        return f"{kind} backend {backend!r}: module {module_name!r} cannot be found"
    return f"{kind} backend {backend!r} cannot be imported from {module_name!r}: {exc}"
