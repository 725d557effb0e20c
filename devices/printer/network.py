"""A receipt printer on the network: raw TCP, port 9100 (Epson "TM" Ethernet/Wi-Fi models and most clones).

Options (``[devices.printer]`` with ``backend = "network"``):

- ``host`` (required): the printer's address; ``port`` (default 9100).
- ``profile``: the python-escpos printer profile of the model (default "TM-T20II"; e.g. "TM-T88V").
- ``timeout``: seconds for connecting, each status answer and sending a job (default 5).
- ``status``: ask paper and online state with DLE EOT before and after each job (default true);
  ``status_timeout``: seconds to wait for an answer (default 1; a printer that does not answer is asked no
  more on that connection, and prints anyway).
- ``timezone``: the clinic's IANA timezone for printed times; ``cache_dir``: escpos's capabilities cache.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping
from typing import Any

from devices.options import OptionReader
from devices.printer.escpos_device import CommonOptions, EscposPrinter, common_options


class NetworkPrinter(EscposPrinter):
    backend = "network"

    def __init__(self, host: str, port: int = 9100, *, common: CommonOptions) -> None:
        super().__init__(common)
        self.host = host
        self.port = port

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> tuple[str, int, CommonOptions]:
        opts = OptionReader("printer", cls.backend, options)
        host = opts.get_str("host", "")
        if not host.strip():
            raise opts.error("host", host, "the printer's host name or IP address")
        port = opts.get_int("port", 9100, minimum=1, maximum=65535)
        common = common_options(opts, status_default=True)
        opts.finish()
        return host, port, common

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> NetworkPrinter:
        host, port, common = cls.check_options(options)
        return cls(host, port, common=common)

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.profile})"

    def _connection(self) -> Any:
        return self._escpos.Network(self.host, port=self.port, timeout=self.timeout, profile=self.profile)

    def _open(self) -> Any:
        printer = super()._open()
        # Status queries follow the job at once: without this, Nagle holds each 3-byte query until the
        # printer's delayed ACK of the job (~40 ms per query).
        with contextlib.suppress(OSError, AttributeError):
            printer.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return printer

    def _read_answer(self, printer: Any) -> bytes:
        sock = printer.device
        sock.settimeout(self.status_timeout)
        try:
            return bytes(sock.recv(16))
        finally:
            sock.settimeout(self.timeout)
