"""Importing python-escpos, done right (RECIPES §7).

``import escpos`` rebuilds its printer-capabilities pickle in a fresh temp dir every time (~350 ms) unless
``ESCPOS_CAPABILITIES_PICKLE_DIR`` names a persistent folder. It is read once, at import, so every backend
must call :func:`load_escpos` (never ``import escpos`` at module top).
"""

from __future__ import annotations

import getpass
import importlib
import logging
import os
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from devices.errors import DeviceSetupError

log = logging.getLogger(__name__)

ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def capabilities_dir(cache_dir: Path | None = None) -> Path:
    """Where the pickle lives: $ESCPOS_CAPABILITIES_PICKLE_DIR, else ``cache_dir``/escpos, else a per-user
    folder in the temp dir (kept between runs)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    if cache_dir is not None:
        return cache_dir / "escpos"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Path(tempfile.gettempdir()) / f"kiosk-escpos-{user}"


def load_escpos(cache_dir: Path | None = None) -> ModuleType:
    """Import ``escpos.printer`` with a persistent capabilities cache; returns the module."""
    folder = capabilities_dir(cache_dir)
    if not os.environ.get(ENV):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise DeviceSetupError(
                f"printer: cannot create the escpos cache folder {str(folder)!r}: {exc}"
            ) from exc
        os.environ[ENV] = str(folder)
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    try:
        return importlib.import_module("escpos.printer")
    except ImportError as exc:
        raise DeviceSetupError(
            "printer backend needs the Python package 'escpos', which is not installed: "
            "pip install 'open-checkin-kiosk[printer]'"
        ) from exc
    finally:
        # escpos.capabilities calls logging.basicConfig() at import: the app owns logging, undo it.
        for handler in list(root.handlers):
            if handler not in handlers_before:
                root.removeHandler(handler)


def profile_names(cache_dir: Path | None = None) -> list[str]:
    load_escpos(cache_dir)
    capabilities: Any = importlib.import_module("escpos.capabilities")
    return sorted(capabilities.CAPABILITIES["profiles"])
