"""A camera that plays image files (or a generated test pattern) on its own thread, like a real webcam.

Options (``[devices.camera]`` with ``backend = "simulated"``):

- ``images``: a list of image paths, or one directory (its .png/.jpg/.jpeg/.bmp files, sorted by name).
  Without it the camera shows a generated grey test pattern of ``width`` × ``height``.
- ``fps``: frames per second (default 15).
- ``loop``: start again after the last image (default true); otherwise the last frame stays the latest.

Test hooks: :meth:`unplug` / :meth:`replug` (health FAULT "unplugged", no frames meanwhile),
:meth:`play` (other images from the next frame on: a card turned over in front of the camera) and
:meth:`wait_for_frame`, which blocks on a condition (no sleeps in tests).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devices.camera.base import Frame
from devices.errors import DeviceSetupError
from devices.health import DeviceHealth, HealthStatus
from devices.options import OptionReader

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class SimulatedCamera:
    backend = "simulated"

    def __init__(
        self,
        images: Sequence[Path] = (),
        *,
        fps: float = 15.0,
        loop: bool = True,
        width: int = 640,
        height: int = 480,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be > 0")
        self._paths = [Path(p) for p in images]
        self._period = 1.0 / fps
        self._loop = loop
        self._size = (width, height)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._index = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._plugged = True
        self._last_error = ""
        self._override: tuple[list[Any], bool] | None = None  # play(): frames + loop, taken by the thread

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedCamera:
        opts = OptionReader("camera", cls.backend, options)
        found, images = opts.get_raw("images")
        paths = _image_paths(opts, images) if found else []
        fps = opts.get_float("fps", 15.0, minimum=0.1, maximum=1000.0)
        loop = opts.get_bool("loop", True)
        width = opts.get_int("width", 640, minimum=16, maximum=7680)
        height = opts.get_int("height", 480, minimum=16, maximum=4320)
        opts.finish()
        return cls(paths, fps=fps, loop=loop, width=width, height=height)

    # -- Camera protocol ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        frames = self._load()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(frames,), name="camera-simulated", daemon=True
        )
        self._thread.start()
        log.info("simulated camera started: %d image(s)", len(frames))

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)
        with self._cond:
            self._cond.notify_all()

    def latest_frame(self) -> Frame | None:
        with self._cond:
            return self._latest if self._plugged else None

    def health(self) -> DeviceHealth:
        if not self._plugged:
            return DeviceHealth("camera", self.backend, HealthStatus.FAULT, "unplugged", self._last_error)
        return DeviceHealth("camera", self.backend, HealthStatus.OK, last_error=self._last_error)

    # -- test hooks ---------------------------------------------------------------------------------------
    def unplug(self) -> None:
        with self._cond:
            self._plugged = False
            self._last_error = "unplugged"
            self._cond.notify_all()
        log.warning("simulated camera unplugged")

    def replug(self) -> None:
        with self._cond:
            self._plugged = True
            self._cond.notify_all()
        log.info("simulated camera plugged in again")

    def play(self, images: Sequence[Any], *, loop: bool = False) -> None:
        """Replay ``images`` (paths, or BGR uint8 arrays) from the next frame on, instead of the configured
        ones. ``loop=False``: then the last one again and again, as new frames (a card held still in front of
        a running camera). Before :meth:`start` they are what it plays."""
        if not images:
            raise ValueError("play() needs at least one image")
        frames = [_read_image(Path(i)) if isinstance(i, (str, Path)) else _frozen(i) for i in images]
        with self._cond:
            self._override = (frames, loop)
            self._cond.notify_all()

    def wait_for_frame(self, after_index: int = -1, timeout: float = 10.0) -> Frame | None:
        """Block until a frame newer than ``after_index`` is the latest (or the timeout passes)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._plugged and self._latest is not None and self._latest.index > after_index,
                timeout=timeout,
            )
            latest = self._latest
            return latest if self._plugged and latest is not None and latest.index > after_index else None

    # -- internals ----------------------------------------------------------------------------------------
    def _load(self) -> list[Any]:
        # cv2 is imported here (when the camera starts): an idle kiosk does not carry OpenCV (~28 MB)
        if not self._paths:
            return [_test_pattern(*self._size)]
        return [_read_image(path) for path in self._paths]

    def _run(self, frames: list[Any]) -> None:
        position = 0
        loop = self._loop
        hold = False  # after the last image: the last image again (play()), or no new frame (configured)
        while not self._stop.is_set():
            with self._cond:
                if self._override is not None:
                    (frames, loop), self._override = self._override, None
                    position, hold = 0, True
            if position >= len(frames) and hold:
                position = len(frames) - 1
            if position >= len(frames):  # not looping, all shown: the last frame stays the latest
                self._stop.wait(self._period)
                continue
            with self._cond:
                if self._plugged:
                    self._index += 1
                    self._latest = Frame(
                        image=frames[position], index=self._index, timestamp=time.monotonic()
                    )
                    self._cond.notify_all()
                    position += 1
                    if position == len(frames) and loop:
                        position = 0
            self._stop.wait(self._period)


def _read_image(path: Path) -> Any:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DeviceSetupError(f"camera backend 'simulated': cannot read image file {str(path)!r}")
    return _frozen(image)


def _frozen(image: Any) -> Any:
    image.flags.writeable = False  # frames are shared with every consumer: never edit in place
    return image


def _image_paths(opts: OptionReader, images: Any) -> list[Path]:
    if isinstance(images, (str, Path)):
        folder = Path(images).expanduser()
        if not folder.is_dir():
            raise opts.error("images", images, "a directory of images or a list of image files")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise opts.error("images", images, f"a directory holding {', '.join(IMAGE_SUFFIXES)} files")
        return paths
    if isinstance(images, Sequence) and images and all(isinstance(p, (str, Path)) for p in images):
        paths = [Path(p).expanduser() for p in images]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise opts.error("images", missing[0], "an existing image file")
        return paths
    raise opts.error("images", images, "a directory of images or a non-empty list of image files")


def _test_pattern(width: int, height: int) -> Any:
    """Grey gradient with a centred white rectangle: something visibly alive for the demo preview."""
    import cv2
    import numpy as np

    ramp = np.linspace(60, 180, width, dtype=np.uint8)
    image = np.repeat(np.repeat(ramp[np.newaxis, :, np.newaxis], height, axis=0), 3, axis=2)
    cv2.rectangle(image, (width // 4, height // 4), (3 * width // 4, 3 * height // 4), (255, 255, 255), 2)
    image.flags.writeable = False
    return image
