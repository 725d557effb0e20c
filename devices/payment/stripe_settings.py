"""Options of the Stripe Terminal backend and its secret key (``[devices.payment]``, ``backend = "stripe"``).

:func:`parse_options` validates without reading the key or touching the network (`kiosk config check`);
:func:`read_key` reads the key from ``api_key_env`` (when set) or ``api_key_file`` (which must not be readable
by others).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.errors import DeviceSetupError
from devices.options import OptionReader

BACKEND = "stripe"


@dataclass(frozen=True)
class StripeSettings:
    reader_id: str
    api_key_file: Path | None
    api_key_env: str
    api_base: str
    api_version: str
    http_timeout: float
    payment_timeout: float
    poll_interval: float
    customer_cancellation: bool


def parse_options(options: Mapping[str, Any]) -> StripeSettings:
    opts = OptionReader("payment", BACKEND, options)
    reader_id = opts.get_str("reader_id", "")
    if not reader_id.startswith("tmr_"):
        raise opts.error("reader_id", reader_id, "the reader's id from Stripe, starting with 'tmr_'")
    settings = StripeSettings(
        reader_id=reader_id,
        api_key_file=opts.get_optional_path("api_key_file"),
        api_key_env=opts.get_str("api_key_env", ""),
        api_base=opts.get_str("api_base", "https://api.stripe.com"),
        api_version=opts.get_str("api_version", ""),
        http_timeout=opts.get_float("http_timeout", 10.0, minimum=0.05, maximum=120.0),
        payment_timeout=opts.get_float("payment_timeout", 120.0, minimum=1.0, maximum=900.0),
        poll_interval=opts.get_float("poll_interval", 1.0, minimum=0.001, maximum=30.0),
        customer_cancellation=opts.get_bool("customer_cancellation", True),
    )
    if settings.api_key_file is None and not settings.api_key_env:
        raise opts.error("api_key_file", None, "a file holding the secret API key (or set api_key_env)")
    if not settings.api_base.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise opts.error("api_base", settings.api_base, "an https:// URL")
    opts.finish()
    return settings


def read_key(settings: StripeSettings) -> str:
    if settings.api_key_env and os.environ.get(settings.api_key_env):
        return os.environ[settings.api_key_env].strip()
    path = settings.api_key_file
    if path is None:
        raise DeviceSetupError(
            f"payment backend 'stripe': environment variable {settings.api_key_env!r} is not set"
        )
    try:
        mode = path.stat().st_mode
        key = path.read_text().strip()
    except OSError as exc:
        raise DeviceSetupError(f"payment backend 'stripe': cannot read api_key_file {str(path)!r}: "
                               f"{type(exc).__name__}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DeviceSetupError(
            f"payment backend 'stripe': api_key_file {str(path)!r} is readable by others; chmod 600 it"
        )
    if not key:
        raise DeviceSetupError(f"payment backend 'stripe': api_key_file {str(path)!r} is empty")
    return key
