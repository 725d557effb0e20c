"""Barcodes read from camera frames on a decoding worker thread (never on the UI thread).

Options (``[devices.barcode]`` with ``backend = "camera"``):

- ``formats``: symbologies to look for (default ``["PDF417", "QRCode", "Code128"]``).
- ``roi``: ``[left, top, right, bottom]`` fractions of the frame searched (default the whole frame; the
  identify screen's guide frame is the natural choice).
- ``max_rate``: frames decoded per second at most (default 15; the rest are skipped, never queued).
- ``repeat_after``: seconds the same barcode must be out of view before it is delivered again (default 3:
  a card held in front of the camera is one scan).
- ``use_zbar``: also try pyzbar for QR / Code 128 when zxing-cpp finds nothing (default false: measured no
  better, see devices/barcode/decode.py).
- ``camera``: a ``[devices.barcode.camera]`` table for a camera of its own (e.g. ``{backend = "opencv",
  source = 0}``). Without it the kiosk's camera is attached with :meth:`attach_camera` (one device, shared
  with the preview): frames are then decoded while someone else (the identify screen) runs the camera.

Every Barcode event is the same as a dedicated scanner's (``source = "camera"``). Barcode text is never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from devices.barcode.base import Barcode, BarcodeCallback
from devices.barcode.decode import FORMATS, FrameDecoder, check_formats
from devices.camera.base import Camera, Frame
from devices.errors import DeviceOperationError, DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)


class CameraBarcodeSource:
    backend = "camera"

    def __init__(
        self,
        camera: Camera | None = None,
        *,
        decoder: FrameDecoder | None = None,
        owns_camera: bool = False,
        max_rate: float = 15.0,
        repeat_after: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rate <= 0:
            raise ValueError("max_rate must be > 0")
        self._camera = camera
        self._owns_camera = owns_camera
        self.decoder = decoder or FrameDecoder()
        self._min_interval = 1.0 / max_rate
        self._repeat_after = repeat_after
        self._clock = clock
        self._callback: BarcodeCallback | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last: tuple[str, str, float] | None = None  # (format, text, when last seen)
        self._last_error = ""
        self._idle = threading.Condition()
        self._decoded_index = -1
        self.delivered = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CameraBarcodeSource:
        opts = OptionReader("barcode", cls.backend, options)
        formats = opts.get_str_list("formats", FORMATS)
        try:
            formats = list(check_formats(formats))
        except ValueError:
            raise opts.error("formats", formats, "a non-empty list of " + ", ".join(FORMATS)) from None
        found, roi_raw = opts.get_raw("roi")
        roi = (0.0, 0.0, 1.0, 1.0)
        if found:
            if not (isinstance(roi_raw, (list, tuple)) and len(roi_raw) == 4
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in roi_raw)):
                raise opts.error("roi", roi_raw, "[left, top, right, bottom] fractions of the frame")
            roi = (float(roi_raw[0]), float(roi_raw[1]), float(roi_raw[2]), float(roi_raw[3]))
        max_rate = opts.get_float("max_rate", 15.0, minimum=0.1, maximum=240.0)
        repeat_after = opts.get_float("repeat_after", 3.0, minimum=0.0, maximum=3600.0)
        use_zbar = opts.get_bool("use_zbar", False)
        has_camera, camera_options = opts.get_raw("camera")
        opts.finish()
        try:
            decoder = FrameDecoder(formats, roi=roi, use_zbar=use_zbar)
        except ValueError:
            raise opts.error("roi", list(roi), "[left, top, right, bottom] fractions, left < right, top < bottom") \
                from None
        camera = None
        if has_camera:
            if not isinstance(camera_options, Mapping):
                raise opts.error("camera", camera_options, "a table with a camera backend and its options")
            from devices import registry

            camera_opts = dict(camera_options)
            backend = camera_opts.pop("backend", "opencv")
            created = registry.create("camera", str(backend), camera_opts)
            if not isinstance(created, Camera):
                raise DeviceSetupError(f"barcode backend 'camera': camera backend {backend!r} is not a camera")
            camera = created
        return cls(camera, decoder=decoder, owns_camera=camera is not None, max_rate=max_rate,
                   repeat_after=repeat_after)

    def attach_camera(self, camera: Camera) -> None:
        """Decode the frames of ``camera`` (the kiosk's shared camera; it is started and stopped by its user)."""
        if self._owns_camera:
            raise DeviceOperationError("this barcode source has a camera of its own")
        self._camera = camera

    # -- BarcodeSource protocol ---------------------------------------------------------------------------
    def start(self, on_barcode: BarcodeCallback) -> None:
        if self._thread is not None:
            raise DeviceOperationError("barcode source already started")
        if self._camera is None:
            raise DeviceOperationError("barcode source 'camera' has no camera attached")
        self._callback = on_barcode
        self._stop.clear()
        if self._owns_camera:
            self._camera.start()
        self._thread = threading.Thread(target=self._run, name="barcode-camera", daemon=True)
        self._thread.start()
        log.info("camera barcode decoding started (formats %s)", ",".join(self.decoder.formats))

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)
        if self._owns_camera and self._camera is not None:
            self._camera.stop()
        self._callback = None

    def health(self) -> DeviceHealth:
        if self._camera is None:
            return DeviceHealth("barcode", self.backend, HealthStatus.FAULT, "no_camera", self._last_error)
        camera = self._camera.health()
        if camera.status is HealthStatus.FAULT:
            return DeviceHealth("barcode", self.backend, HealthStatus.FAULT, camera.detail, self._last_error)
        return DeviceHealth("barcode", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- tests --------------------------------------------------------------------------------------------
    def wait_decoded(self, frame_index: int, timeout: float = 10.0) -> bool:
        """True once the worker has decoded a frame with index ≥ ``frame_index`` (and delivered its barcode)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._decoded_index >= frame_index, timeout=timeout)

    # -- internals ----------------------------------------------------------------------------------------
    def _next_frame(self, after: int) -> Frame | None:
        camera = self._camera
        if camera is None:
            return None
        wait = getattr(camera, "wait_for_frame", None)
        if callable(wait):
            frame = wait(after, 0.25)
            return frame if isinstance(frame, Frame) else None
        frame = camera.latest_frame()
        if frame is None or frame.index <= after:
            self._stop.wait(0.02)
            return None
        return frame

    def _run(self) -> None:
        after = -1
        while not self._stop.is_set():
            frame = self._next_frame(after)
            if frame is None:
                continue
            after = frame.index
            started = time.monotonic()
            try:
                found = self.decoder.decode(frame.image)
            except Exception as exc:  # a decoder bug must not end scanning; frames carry no text to leak
                self._last_error = type(exc).__name__
                log.error("frame decoding failed: %s", type(exc).__name__)
                found = []
            for decoded in found[:1]:
                self._deliver(decoded.to_barcode(self.backend))
            with self._idle:
                self._decoded_index = frame.index
                self._idle.notify_all()
            rest = self._min_interval - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)

    def _deliver(self, barcode: Barcode) -> None:
        now = self._clock()
        last = self._last
        self._last = (barcode.format, barcode.text, now)
        if last is not None and (last[0], last[1]) == (barcode.format, barcode.text) and now - last[2] < \
                self._repeat_after:
            return  # the same card still in view (seen again within repeat_after): one scan
        callback = self._callback
        if callback is None:
            return
        try:
            callback(barcode)
            self.delivered += 1
        except Exception as exc:
            self._last_error = type(exc).__name__
            log.error("barcode callback failed: %s (format=%s)", type(exc).__name__, barcode.format)
