"""CameraPreview: the live camera picture with a guide frame where the barcode must go.

``start(camera)`` / ``stop()``: the camera (devices/camera, any backend) is started and stopped on a small
worker thread of its own (a USB camera can take seconds to let go; never on the UI thread), and its newest frame
is polled ~15×/s by Kivy's clock, so frames reach the widget only on the main thread. Each new frame (BGR) is
scaled to the widget's width and blitted into one texture (flipped: OpenCV's rows go top-down). The decoding
of the same frames happens elsewhere, on the barcode source's worker thread.

``roi`` ([left, top, right, bottom] fractions of the frame, the decoder's region of interest) is drawn as the
guide frame; outside it the picture is dimmed. ``status``: "off", "starting", "live", or "no_signal" when no
new frame came for ``no_signal_after`` seconds (the kv shows a message then).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.graphics.texture import Texture
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, OptionProperty
from kivy.uix.widget import Widget

log = logging.getLogger(__name__)

PREVIEW_FPS = 15.0
MAX_PREVIEW_WIDTH = 960  # px blitted at most (a 1080p frame is scaled down first: ~1 ms instead of ~3)

_switch: ThreadPoolExecutor | None = None


def _run_switch(action: str, camera: Any) -> None:
    try:
        getattr(camera, action)()
    except Exception as exc:  # the camera's own health reports it; the preview shows "no signal"
        log.warning("camera %s failed: %s", action, type(exc).__name__)


def switch_camera(action: str, camera: Any) -> Any:
    """Run ``camera.start()``/``camera.stop()`` on the camera worker (in order). Returns the Future."""
    global _switch
    if _switch is None:
        _switch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camera-switch")
    return _switch.submit(_run_switch, action, camera)


class CameraPreview(Widget):
    roi = ListProperty([0.0, 0.0, 1.0, 1.0])
    texture = ObjectProperty(None, allownone=True)
    status = OptionProperty("off", options=("off", "starting", "live", "no_signal"))
    no_signal_after = NumericProperty(4.0)
    frame_size = ListProperty([16, 9])
    """Size of the camera's frames (sets the picture's aspect ratio)."""
    image_rect = ListProperty([0, 0, 0, 0])
    """Where the picture is drawn, in window coordinates of this widget: x, y, width, height."""
    guide_rect = ListProperty([0, 0, 0, 0])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._camera: Any = None
        self._event: ClockEvent | None = None
        self._last_index = -1
        self._last_new = 0.0
        self.frames_shown = 0
        self.last_switch: Any = None  # the Future of the last start/stop (tests wait on it)
        for name in ("pos", "size", "frame_size", "roi"):
            self.fbind(name, self._layout)
        self._layout()

    @property
    def camera(self) -> Any:
        return self._camera

    # -- running --------------------------------------------------------------------------------------
    def start(self, camera: Any) -> None:
        if camera is None:
            self.stop()
            return
        if camera is self._camera:
            return
        self.stop()
        self._camera = camera
        self._last_index = -1
        self._last_new = Clock.get_time()
        self.status = "starting"
        self.last_switch = switch_camera("start", camera)
        self._event = Clock.schedule_interval(self._poll, 1.0 / PREVIEW_FPS)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        camera, self._camera = self._camera, None
        if camera is not None:
            self.last_switch = switch_camera("stop", camera)
        self.texture = None
        self.status = "off"

    def _poll(self, _dt: float = 0.0) -> None:
        camera = self._camera
        if camera is None:
            return
        try:
            frame = camera.latest_frame()
        except Exception as exc:
            log.warning("camera frame failed: %s", type(exc).__name__)
            frame = None
        now = Clock.get_time()
        if frame is None or frame.index == self._last_index:
            if now - self._last_new > self.no_signal_after:
                self.status = "no_signal"
            return
        self._last_index = frame.index
        self._last_new = now
        self.show_image(frame.image)
        self.status = "live"

    # -- drawing --------------------------------------------------------------------------------------
    def show_image(self, image: Any) -> None:
        """Blit one BGR uint8 frame (numpy HxWx3) into the texture (main thread)."""
        height, width = int(image.shape[0]), int(image.shape[1])
        target = int(min(width, MAX_PREVIEW_WIDTH, max(64.0, float(self.width))))
        if target < width:
            import cv2  # the camera already loaded it

            image = cv2.resize(image, (target, max(1, round(height * target / width))), interpolation=cv2.INTER_AREA)
            height, width = int(image.shape[0]), int(image.shape[1])
        if not image.flags["C_CONTIGUOUS"]:
            image = image.copy(order="C")
        texture = self.texture
        if texture is None or tuple(texture.size) != (width, height):
            texture = Texture.create(size=(width, height), colorfmt="rgb")
            texture.flip_vertical()
            self.frame_size = [width, height]
        texture.blit_buffer(memoryview(image).cast("B"), colorfmt="bgr", bufferfmt="ubyte")
        if texture is self.texture:
            self.canvas.ask_update()
        else:
            self.texture = texture
        self.frames_shown += 1

    def _layout(self, *_args: Any) -> None:
        fw, fh = (float(v) or 1.0 for v in self.frame_size)
        scale = min(self.width / fw, self.height / fh) if self.width and self.height else 0.0
        w, h = fw * scale, fh * scale
        x, y = self.x + (self.width - w) / 2.0, self.y + (self.height - h) / 2.0
        self.image_rect = [x, y, w, h]
        left, top, right, bottom = (float(v) for v in self.roi)
        # roi fractions count from the frame's top; Kivy's y grows upwards
        self.guide_rect = [x + left * w, y + (1.0 - bottom) * h, (right - left) * w, (bottom - top) * h]
