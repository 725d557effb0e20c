"""A 2D scanner you drive from code: ``inject(text)`` delivers a Barcode from the scanner's own thread.

Options (``[devices.barcode]`` with ``backend = "simulated"``):

- ``script``: barcode texts delivered one after another once started (e.g. a demo ID card payload).
- ``script_interval``: seconds before each scripted barcode (default 0).
- ``format``: symbology of scripted barcodes (default "PDF417").

Test hooks: :meth:`inject`, :meth:`unplug` / :meth:`replug`, :meth:`wait_idle`.
Barcode text is personal data: it is never logged.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from devices.barcode.base import Barcode, BarcodeCallback
from devices.errors import DeviceOperationError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)

FORMATS = ("PDF417", "QRCode", "Code128", "DataMatrix", "Aztec", "Code39", "EAN13", "UPCA")


class SimulatedBarcodeSource:
    backend = "simulated"

    def __init__(
        self, script: Sequence[str] = (), *, script_interval: float = 0.0, format: str = "PDF417"
    ) -> None:
        self._script = list(script)
        self._interval = script_interval
        self._format = format
        self._queue: queue.Queue[Barcode | None] = queue.Queue()
        self._callback: BarcodeCallback | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._plugged = True
        self._last_error = ""
        self._pending = 0
        self._idle = threading.Condition()
        self.delivered = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedBarcodeSource:
        opts = OptionReader("barcode", cls.backend, options)
        script = opts.get_str_list("script", [])
        interval = opts.get_float("script_interval", 0.0, minimum=0.0, maximum=3600.0)
        fmt = opts.get_str("format", "PDF417", choices=FORMATS)
        opts.finish()
        return cls(script, script_interval=interval, format=fmt)

    # -- BarcodeSource protocol ---------------------------------------------------------------------------
    def start(self, on_barcode: BarcodeCallback) -> None:
        if self._thread is not None:
            raise DeviceOperationError("barcode source already started")
        self._callback = on_barcode
        self._queue = queue.Queue()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="barcode-simulated", daemon=True)
        self._thread.start()
        if self._script:
            threading.Thread(target=self._play_script, name="barcode-simulated-script", daemon=True).start()
        log.info("simulated barcode source started (%d scripted)", len(self._script))

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=5.0)
        self._callback = None

    def health(self) -> DeviceHealth:
        if not self._plugged:
            return DeviceHealth("barcode", self.backend, HealthStatus.FAULT, "unplugged", self._last_error)
        return DeviceHealth("barcode", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- test hooks ---------------------------------------------------------------------------------------
    def inject(self, text: str, format: str = "PDF417") -> None:
        """Scan ``text``: the callback receives it on the scanner thread, as with a real scanner."""
        if self._thread is None:
            raise DeviceOperationError("barcode source not started")
        if not self._plugged:
            raise DeviceOperationError("barcode scanner unplugged")
        with self._idle:
            self._pending += 1
        self._queue.put(Barcode(format=format, text=text, source=self.backend))

    def unplug(self) -> None:
        self._plugged = False
        self._last_error = "unplugged"
        log.warning("simulated barcode scanner unplugged")

    def replug(self) -> None:
        self._plugged = True
        log.info("simulated barcode scanner plugged in again")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every injected barcode has been handed to the callback."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    # -- internals ----------------------------------------------------------------------------------------
    def _play_script(self) -> None:
        for text in self._script:
            if self._stop.wait(self._interval):
                return
            try:
                self.inject(text, self._format)
            except DeviceOperationError:
                return

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                break
            callback = self._callback
            try:
                if callback is not None:
                    callback(item)
                    self.delivered += 1
            except Exception as exc:
                self._last_error = type(exc).__name__
                # Type only: an exception message could quote the barcode text (personal data).
                log.error("barcode callback failed: %s (format=%s)", type(exc).__name__, item.format)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
        # Anything left unread when stopping is dropped, like a scanner with nobody listening.
        with self._idle:
            self._pending = 0
            self._idle.notify_all()
