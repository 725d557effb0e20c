"""Draw a TicketLayout on any python-escpos printer object (Dummy, Usb, Serial, Network, File).

The QR code is printed natively (``GS ( k``: ~370 bytes instead of a ~15 KB raster) and centred with
``set(align="center")`` (RECIPES §7: ``center=True`` raises with ``native=True``; a real profile such as
"TM-T20II" is needed for alignment to work). Text sizes use ``GS !`` (custom_size).
"""

from __future__ import annotations

import textwrap
from typing import Any

from devices.printer.ticket_layout import Align, Cut, Feed, QrCode, Rule, TextLine, TicketLayout

DEFAULT_COLUMNS = 48  # font A on 80 mm paper
# escpos.constants.QR_ECLEVEL_* (not imported here: importing escpos must wait for its cache set-up)
QR_EC_LEVELS = {"L": 0, "M": 1, "Q": 2, "H": 3}


def columns_of(printer: Any) -> int:
    """Characters per line in font A according to the printer's profile."""
    try:
        return int(printer.profile.profile_data["fonts"]["0"]["columns"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return DEFAULT_COLUMNS


def render(layout: TicketLayout, printer: Any) -> None:
    """Send the layout to ``printer``; the printer's own exceptions propagate to the caller."""
    columns = columns_of(printer)
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
    for element in layout.elements:
        if isinstance(element, TextLine):
            width, height = element.size.value
            printer.set(
                align=element.align.value, bold=element.bold, custom_size=True, width=width, height=height
            )
            # Printers break lines mid-word: wrap at word boundaries to the characters that fit.
            for line in textwrap.wrap(element.text, max(1, columns // width)) or [""]:
                printer.textln(line)
        elif isinstance(element, Rule):
            printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
            printer.textln("-" * columns)
        elif isinstance(element, Feed):
            printer.ln(element.lines)
        elif isinstance(element, QrCode):
            printer.set(align=element.align.value)
            printer.qr(element.payload, ec=QR_EC_LEVELS[element.error], size=element.module, native=True)
            printer.ln()
        elif isinstance(element, Cut):
            printer.set(align=Align.LEFT.value, bold=False, custom_size=True, width=1, height=1)
            printer.cut()
