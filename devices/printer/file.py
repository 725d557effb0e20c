"""A receipt printer behind a device file: ``/dev/usb/lp0`` (the kernel's usblp driver), a parallel port, or
a file. Writing only: a device file cannot answer DLE EOT, so paper and online state
are unknown and health only says whether the file can be opened for writing.

Options (``[devices.printer]`` with ``backend = "file"``):

- ``path`` (required): the device file.
- ``profile``, ``timezone``, ``cache_dir``, ``timeout``: as for every escpos printer (see network.py);
  ``status`` defaults to false here (set it true only for a device file that really answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devices.options import OptionReader
from devices.printer.escpos_device import CommonOptions, EscposPrinter, common_options


class FilePrinter(EscposPrinter):
    backend = "file"

    def __init__(self, path: Path, *, common: CommonOptions) -> None:
        super().__init__(common)
        self.path = path

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> tuple[Path, CommonOptions]:
        opts = OptionReader("printer", cls.backend, options)
        path = opts.get_optional_path("path")
        if path is None:
            raise opts.error("path", None, "the printer's device file, e.g. '/dev/usb/lp0'")
        common = common_options(opts, status_default=False)
        opts.finish()
        return path, common

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> FilePrinter:
        path, common = cls.check_options(options)
        return cls(path, common=common)

    def describe(self) -> str:
        return f"{self.path} ({self.profile})"

    def _connection(self) -> Any:
        return self._escpos.File(str(self.path), profile=self.profile)
