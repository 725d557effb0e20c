"""A receipt printer on a serial port (RS-232, or a USB-serial adapter): paper and online state are read back.

Options (``[devices.printer]`` with ``backend = "serial"``):

- ``device`` (required): e.g. ``/dev/ttyS0`` or ``/dev/ttyUSB0`` (better: a stable ``/dev/serial/by-id/...``).
- ``baudrate`` (default 9600; many printers ship at 38400 or 115200), ``bytesize`` (8), ``parity``
  ("N", "E", "O"; default "N"), ``stopbits`` (1 or 2).
- ``dsrdtr``: DSR/DTR hardware flow control (default true, as python-escpos); ``xonxoff`` (default false).
- ``profile``, ``timeout``, ``status``, ``status_timeout``, ``timezone``, ``cache_dir``: as for every escpos
  printer (see network.py).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.errors import DeviceSetupError
from devices.options import OptionReader
from devices.printer.escpos_device import CommonOptions, EscposPrinter, common_options


@dataclass(frozen=True)
class SerialLine:
    device: Path
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    dsrdtr: bool = True
    xonxoff: bool = False


class SerialPrinter(EscposPrinter):
    backend = "serial"

    def __init__(self, line: SerialLine, *, common: CommonOptions) -> None:
        if importlib.util.find_spec("serial") is None:
            raise DeviceSetupError(
                "printer backend 'serial' needs the Python package 'serial' (pyserial), which is not installed: "
                "pip install 'open-checkin-kiosk[printer]'"
            )
        super().__init__(common)
        self.line = line

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> tuple[SerialLine, CommonOptions]:
        opts = OptionReader("printer", cls.backend, options)
        device = opts.get_optional_path("device")
        if device is None:
            raise opts.error("device", None, "the serial port, e.g. '/dev/ttyUSB0'")
        line = SerialLine(
            device=device,
            baudrate=opts.get_int("baudrate", 9600, minimum=300, maximum=921600),
            bytesize=opts.get_int("bytesize", 8, minimum=5, maximum=8),
            parity=opts.get_str("parity", "N", choices=("N", "E", "O")),
            stopbits=opts.get_int("stopbits", 1, minimum=1, maximum=2),
            dsrdtr=opts.get_bool("dsrdtr", True),
            xonxoff=opts.get_bool("xonxoff", False),
        )
        common = common_options(opts, status_default=True)
        opts.finish()
        return line, common

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SerialPrinter:
        line, common = cls.check_options(options)
        return cls(line, common=common)

    def describe(self) -> str:
        return f"{self.line.device} {self.line.baudrate} baud ({self.profile})"

    def _connection(self) -> Any:
        line = self.line
        return self._escpos.Serial(
            devfile=str(line.device),
            baudrate=line.baudrate,
            bytesize=line.bytesize,
            timeout=self.timeout,
            parity=line.parity,
            stopbits=line.stopbits,
            xonxoff=line.xonxoff,
            dsrdtr=line.dsrdtr,
            profile=self.profile,
        )

    def _read_answer(self, printer: Any) -> bytes:
        port = printer.device
        before = port.timeout
        port.timeout = self.status_timeout
        try:
            return bytes(port.read(1))  # read(16) would wait the whole timeout for 16 bytes
        finally:
            port.timeout = before
