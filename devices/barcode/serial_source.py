"""Serial (RS-232 or USB CDC-ACM) barcode scanners, read with pyserial on a reader thread.

Options (``[devices.barcode]`` with ``backend = "serial"``):

- ``port``: a device (``"/dev/ttyACM0"``) or any pyserial URL (``"loop://"`` in tests).
- ``baudrate``: default 9600 (CDC-ACM ignores it).
- ``suffix``: the scanner's terminator (e.g. ``"\\r\\n"``). Leave it empty (the default) for AAMVA: the ID's
  own CR/LF separators would split it; a scan then ends after ``gap`` seconds without a byte.
- ``gap``: seconds of silence that end a scan (default 0.05).
- ``reconnect_interval``: seconds between attempts to reopen a port that vanished (default 1).

Bytes are read as UTF-8 when valid, else Latin-1 (one character per byte: AAMVA control characters survive).
Scanners that send AIM identifiers get their format named (see :func:`devices.barcode.wedge.format_of`).
Barcode text is never logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from devices.barcode.base import Barcode, BarcodeCallback
from devices.barcode.wedge import format_of
from devices.errors import DeviceOperationError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)

MAX_SCAN_BYTES = 16384
PortFactory = Callable[[], Any]


def _text(raw: bytes) -> str:
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class SerialBarcodeSource:
    backend = "serial"

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        suffix: bytes = b"",
        gap: float = 0.05,
        reconnect_interval: float = 1.0,
        port_factory: PortFactory | None = None,
    ) -> None:
        if gap <= 0:
            raise ValueError("gap must be > 0")
        self.port_name = port
        self._baudrate = baudrate
        self._suffix = suffix
        self._gap = gap
        self._reconnect_interval = reconnect_interval
        self._factory = port_factory or self._open_port
        self._callback: BarcodeCallback | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._port: Any = None
        self._connected = False
        self._last_error = ""
        self.delivered = 0
        self.discarded = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SerialBarcodeSource:
        opts = OptionReader("barcode", cls.backend, options)
        port = opts.get_str("port", "")
        baudrate = opts.get_int("baudrate", 9600, minimum=50, maximum=4_000_000)
        suffix = opts.get_str("suffix", "")
        gap = opts.get_float("gap", 0.05, minimum=0.005, maximum=5.0)
        reconnect = opts.get_float("reconnect_interval", 1.0, minimum=0.01, maximum=600.0)
        opts.finish()
        if not port:
            raise opts.error("port", port, 'a serial device such as "/dev/ttyACM0" or a pyserial URL')
        import serial  # noqa: F401  (fail at start-up, with the extra to install, when pyserial is missing)

        return cls(port, baudrate=baudrate, suffix=suffix.encode("latin-1", "replace"), gap=gap,
                   reconnect_interval=reconnect)

    # -- BarcodeSource protocol ---------------------------------------------------------------------------
    def start(self, on_barcode: BarcodeCallback) -> None:
        if self._thread is not None:
            raise DeviceOperationError("barcode source already started")
        self._callback = on_barcode
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="barcode-serial", daemon=True)
        self._thread.start()
        log.info("serial barcode scanner started")

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        port = self._port
        if port is not None:
            try:
                port.cancel_read()
            except Exception:
                log.debug("cancel_read not supported")
        if thread is not None:
            thread.join(timeout=5.0)
        self._callback = None

    def health(self) -> DeviceHealth:
        if self._thread is not None and not self._connected:
            return DeviceHealth("barcode", self.backend, HealthStatus.FAULT, "unplugged", self._last_error)
        return DeviceHealth("barcode", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- tests --------------------------------------------------------------------------------------------
    @property
    def port(self) -> Any:
        """The open pyserial port (tests write into ``loop://`` through it)."""
        return self._port

    def wait_connected(self, connected: bool = True, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._connected is connected, timeout=timeout)

    def wait_delivered(self, count: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.delivered + self.discarded >= count, timeout=timeout)

    # -- internals ----------------------------------------------------------------------------------------
    def _open_port(self) -> Any:
        import serial

        return serial.serial_for_url(self.port_name, baudrate=self._baudrate, timeout=self._gap)

    def _set_connected(self, connected: bool, port: Any = None) -> None:
        with self._cond:
            changed = connected != self._connected
            self._connected, self._port = connected, port
            self._cond.notify_all()
        if changed:
            if connected:
                log.info("serial barcode scanner connected")
            else:
                log.warning("serial barcode scanner unplugged (%s): retrying", self._last_error or "gone")

    def _run(self) -> None:
        buffer = bytearray()
        port: Any = None
        try:
            while not self._stop.is_set():
                if port is None:
                    try:
                        port = self._factory()
                    except Exception as exc:
                        self._last_error = type(exc).__name__
                        self._set_connected(False)
                        self._stop.wait(self._reconnect_interval)
                        continue
                    self._set_connected(True, port)
                try:
                    chunk = port.read(max(1, getattr(port, "in_waiting", 0) or 1))
                except Exception as exc:  # the device vanished (SerialException, OSError)
                    self._last_error = type(exc).__name__
                    _close(port)
                    port = None
                    buffer.clear()
                    self._set_connected(False)
                    continue
                if chunk:
                    buffer += chunk
                    self._split(buffer)
                    if len(buffer) > MAX_SCAN_BYTES:
                        buffer.clear()
                        self._count_discarded()
                elif buffer:  # `gap` seconds of silence: the scan is complete
                    self._emit(bytes(buffer))
                    buffer.clear()
        finally:
            _close(port)
            self._set_connected(False)

    def _split(self, buffer: bytearray) -> None:
        if not self._suffix:
            return
        while True:
            end = buffer.find(self._suffix)
            if end < 0:
                return
            scan = bytes(buffer[:end])
            del buffer[: end + len(self._suffix)]
            if scan:
                self._emit(scan)

    def _count_discarded(self) -> None:
        with self._cond:
            self.discarded += 1
            self._cond.notify_all()

    def _emit(self, raw: bytes) -> None:
        fmt, text = format_of(_text(raw).rstrip("\r\n") if not self._suffix else _text(raw))
        callback = self._callback
        if not text or callback is None:
            self._count_discarded()
            return
        try:
            callback(Barcode(format=fmt, text=text, source=self.backend))
        except Exception as exc:
            self._last_error = type(exc).__name__
            log.error("barcode callback failed: %s (format=%s)", type(exc).__name__, fmt)
        with self._cond:
            self.delivered += 1
            self._cond.notify_all()


def _close(port: Any) -> None:
    if port is not None:
        try:
            port.close()
        except Exception:
            log.debug("serial port close failed")
