"""A receipt printer on USB, spoken to directly with pyusb (libusb): paper and online state are read back.

Options (``[devices.printer]`` with ``backend = "usb"``):

- ``vendor_id``, ``product_id`` (required): the printer's USB ids, e.g. ``0x04b8`` / ``0x0e15`` for an Epson
  TM-T20II (``lsusb`` shows them; TOML takes hexadecimal integers as written).
- ``in_ep`` / ``out_ep``: the bulk endpoints (default 0x82 / 0x01, as python-escpos).
- ``profile``, ``timeout``, ``status``, ``status_timeout``, ``timezone``, ``cache_dir``: as for every escpos
  printer (see network.py).

The kiosk user needs access to the device (packaging/ udev rule) and the kernel's ``usblp`` driver must not
hold it: use ``backend = "file"`` with ``/dev/usb/lp0`` instead when usblp is wanted.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from devices.errors import DeviceSetupError
from devices.options import OptionReader
from devices.printer.escpos_device import CommonOptions, EscposPrinter, common_options


class UsbPrinter(EscposPrinter):
    backend = "usb"

    def __init__(
        self, vendor_id: int, product_id: int, *, in_ep: int = 0x82, out_ep: int = 0x01, common: CommonOptions
    ) -> None:
        if importlib.util.find_spec("usb") is None:
            raise DeviceSetupError(
                "printer backend 'usb' needs the Python package 'usb' (pyusb), which is not installed: "
                "pip install 'open-checkin-kiosk[printer]'"
            )
        super().__init__(common)
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.in_ep = in_ep
        self.out_ep = out_ep

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> tuple[int, int, int, int, CommonOptions]:
        opts = OptionReader("printer", cls.backend, options)
        found_vendor, _ = opts.get_raw("vendor_id")
        found_product, _ = opts.get_raw("product_id")
        if not found_vendor or not found_product:
            missing = "vendor_id" if not found_vendor else "product_id"
            raise opts.error(missing, None, "the printer's USB id, e.g. 0x04b8 (see lsusb)")
        vendor = opts.get_int("vendor_id", 0, minimum=1, maximum=0xFFFF)
        product = opts.get_int("product_id", 0, minimum=1, maximum=0xFFFF)
        in_ep = opts.get_int("in_ep", 0x82, minimum=0x80, maximum=0x8F)
        out_ep = opts.get_int("out_ep", 0x01, minimum=0x00, maximum=0x0F)
        common = common_options(opts, status_default=True)
        opts.finish()
        return vendor, product, in_ep, out_ep, common

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> UsbPrinter:
        vendor, product, in_ep, out_ep, common = cls.check_options(options)
        return cls(vendor, product, in_ep=in_ep, out_ep=out_ep, common=common)

    def describe(self) -> str:
        return f"USB {self.vendor_id:04x}:{self.product_id:04x} ({self.profile})"

    def _connection(self) -> Any:
        return self._escpos.Usb(
            self.vendor_id,
            self.product_id,
            timeout=int(self.timeout * 1000),  # pyusb counts milliseconds
            in_ep=self.in_ep,
            out_ep=self.out_ep,
            profile=self.profile,
        )

    def _read_answer(self, printer: Any) -> bytes:
        return bytes(printer.device.read(printer.in_ep, 16, int(self.status_timeout * 1000)))
