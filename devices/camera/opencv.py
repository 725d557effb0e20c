"""A real camera: OpenCV ``VideoCapture`` read on a worker thread; consumers take the latest frame.

Options (``[devices.camera]`` with ``backend = "opencv"``):

- ``source``: a device index (``0``), a device path (``"/dev/video0"``), or a video/image file (tests, demos).
- ``width`` / ``height`` / ``fps``: requested from a device (it may choose otherwise); for files ``fps`` paces
  playback (default: the file's own rate, else 15).
- ``loop``: files start again at their end (default true); otherwise the last frame stays the latest.
- ``reconnect_interval``: seconds between attempts to reopen a camera that vanished (default 1).

A camera that cannot be opened or stops delivering is released and reopened every ``reconnect_interval``;
meanwhile ``health()`` is FAULT "unplugged" and ``latest_frame()`` keeps returning None. Frames are shared
read-only numpy arrays (BGR); never edit them in place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devices.camera.base import Frame
from devices.errors import DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
#: reads that may fail in a row before a device counts as gone (a USB camera hiccups now and then)
READ_FAILURES_BEFORE_RECONNECT = 5

Source = int | str | Path
CaptureFactory = Callable[[Source], Any]


def _open_capture(source: Source) -> Any:
    import cv2  # imported when the camera starts: an idle kiosk does not carry OpenCV

    if isinstance(source, int):
        return cv2.VideoCapture(source)
    return cv2.VideoCapture(str(source))


class OpenCVCamera:
    backend = "opencv"

    def __init__(
        self,
        source: Source = 0,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        loop: bool = True,
        reconnect_interval: float = 1.0,
        capture_factory: CaptureFactory | None = None,
    ) -> None:
        if isinstance(source, str) and source.strip().isdigit():
            source = int(source)
        self._source: Source = source
        self._is_file = not isinstance(source, int) and not str(source).startswith("/dev/")
        self._is_still = self._is_file and Path(str(source)).suffix.lower() in IMAGE_SUFFIXES
        self._width, self._height, self._fps = width, height, fps
        self._loop = loop
        self._reconnect_interval = reconnect_interval
        self._factory = capture_factory or _open_capture
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._index = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False
        self._ever_connected = False
        self._last_error = ""
        self.reconnects = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OpenCVCamera:
        opts = OptionReader("camera", cls.backend, options)
        found, raw = opts.get_raw("source")
        source: Source = 0
        if found:
            if isinstance(raw, bool) or not isinstance(raw, (int, str, Path)) or raw == "":
                raise opts.error("source", raw, "a device index, a device path or a video/image file")
            source = raw
            if isinstance(raw, int) and raw < 0:
                raise opts.error("source", raw, "a device index >= 0")
        width = opts.get_int("width", 0, minimum=0, maximum=7680) or None
        height = opts.get_int("height", 0, minimum=0, maximum=4320) or None
        fps = opts.get_optional_float("fps", minimum=0.1)
        loop = opts.get_bool("loop", True)
        reconnect = opts.get_float("reconnect_interval", 1.0, minimum=0.01, maximum=600.0)
        opts.finish()
        if isinstance(source, (str, Path)) and not str(source).startswith("/dev/") and not str(source).isdigit():
            if not Path(source).expanduser().is_file():
                raise opts.error("source", str(source), "an existing video or image file")
            source = Path(source).expanduser()
        return cls(source, width=width, height=height, fps=fps, loop=loop, reconnect_interval=reconnect)

    # -- Camera protocol ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="camera-opencv", daemon=True)
        self._thread.start()
        log.info("opencv camera started (%s)", self._describe())

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)
        with self._cond:
            self._latest = None
            self._connected = False
            self._cond.notify_all()

    def latest_frame(self) -> Frame | None:
        with self._cond:
            return self._latest if self._connected else None

    def health(self) -> DeviceHealth:
        if self._thread is not None and not self._connected and (self._ever_connected or self._last_error):
            return DeviceHealth("camera", self.backend, HealthStatus.FAULT, "unplugged", self._last_error)
        return DeviceHealth("camera", self.backend, HealthStatus.OK, last_error=self._last_error)

    def wait_for_frame(self, after_index: int = -1, timeout: float = 10.0) -> Frame | None:
        """Block until a frame newer than ``after_index`` is the latest (None on timeout or while unplugged)."""
        with self._cond:
            self._cond.wait_for(self._newer(after_index), timeout=timeout)
            return self._latest if self._newer(after_index)() else None

    def wait_for_health(self, status: HealthStatus, timeout: float = 10.0) -> bool:
        """Block until ``health().status`` is ``status`` (tests: unplug/replug without sleeping)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.health().status is status, timeout=timeout)

    # -- internals ----------------------------------------------------------------------------------------
    def _newer(self, after_index: int) -> Callable[[], bool]:
        return lambda: self._connected and self._latest is not None and self._latest.index > after_index

    def _describe(self) -> str:
        if isinstance(self._source, int):
            return f"device {self._source}"
        return "device path" if not self._is_file else ("image file" if self._is_still else "video file")

    def _open(self) -> Any:
        try:
            capture = self._factory(self._source)
        except Exception as exc:
            self._last_error = type(exc).__name__
            return None
        if capture is None or not capture.isOpened():
            self._last_error = "open_failed"
            return None
        if not self._is_file:
            import cv2

            if self._width:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
            if self._height:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
            if self._fps:
                capture.set(cv2.CAP_PROP_FPS, self._fps)
        return capture

    def _period(self, capture: Any) -> float:
        """Seconds between frames for files (devices pace themselves: read() blocks)."""
        if not self._is_file:
            return 0.0
        fps = self._fps
        if fps is None:
            try:
                import cv2

                fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
            except Exception:
                fps = None
        return 1.0 / (fps if fps and 0 < fps <= 240 else 15.0)

    def _set_connected(self, connected: bool) -> None:
        with self._cond:
            changed = connected != self._connected
            if changed:
                self._connected = connected
                if connected:
                    if self._ever_connected:
                        self.reconnects += 1
                    self._ever_connected = True
                    self._last_error = ""
            self._cond.notify_all()
        if not changed:
            return
        if connected:
            log.info("camera connected (%s)", self._describe())
        else:
            log.warning("camera unplugged or unreadable (%s): retrying every %.2fs", self._describe(),
                        self._reconnect_interval)

    def _publish(self, image: Any) -> None:
        image.flags.writeable = False
        with self._cond:
            self._index += 1
            self._latest = Frame(image=image, index=self._index, timestamp=time.monotonic())
            self._cond.notify_all()

    def _run(self) -> None:
        capture: Any = None
        failures = 0
        still: Any = None
        period = 0.0
        try:
            while not self._stop.is_set():
                if capture is None:
                    capture = self._open()
                    if capture is None:
                        self._set_connected(False)
                        self._stop.wait(self._reconnect_interval)
                        continue
                    failures, still, period = 0, None, self._period(capture)
                if still is not None:  # an image file: the same frame again, as long as the file is there
                    if not Path(str(self._source)).exists():
                        _release(capture)
                        capture, still = None, None
                        continue
                    ok, image = True, still
                else:
                    ok, image = _read(capture)
                if not ok or image is None:
                    if self._is_file and failures == 0 and self._latest is not None and self._connected:
                        # End of a file: play it again (or keep the last frame); a vanished file fails to reopen.
                        _release(capture)
                        capture = None
                        if not self._loop:
                            self._stop.wait()
                        continue
                    failures += 1
                    if failures >= READ_FAILURES_BEFORE_RECONNECT or self._is_file:
                        self._last_error = "read_failed"
                        _release(capture)
                        capture = None
                        self._set_connected(False)
                        self._stop.wait(self._reconnect_interval)
                    continue
                failures = 0
                if self._is_still and still is None:
                    still = image
                self._set_connected(True)
                self._publish(image)
                if period:
                    self._stop.wait(period)
        finally:
            _release(capture)


def _read(capture: Any) -> tuple[bool, Any]:
    try:
        ok, image = capture.read()
    except Exception:
        return False, None
    return bool(ok), image


def _release(capture: Any) -> None:
    if capture is not None:
        try:
            capture.release()
        except Exception:  # a vanished device may fail to release: nothing more to do
            log.debug("camera release failed")


def check_source(source: Source) -> None:
    """Raise DeviceSetupError unless ``source`` can be opened once (``kiosk doctor``)."""
    capture = _open_capture(source)
    try:
        if not capture.isOpened():
            raise DeviceSetupError(f"camera backend 'opencv': cannot open {source!r}")
    finally:
        capture.release()
