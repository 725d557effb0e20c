"""Consents: the document's text, then a signature with the finger; "I agree and sign" or "I do not agree".

The signature goes to the flow as drawn: ``{"action": "sign", "strokes", "png", "pad_size"}``; the flow
decides whether it is long enough (``signature_too_short``).
"""

from __future__ import annotations

import re
from typing import Any

from kivy.properties import StringProperty
from kivy.utils import escape_markup

from kiosk.ui.i18n_kv import _
from kiosk.ui.screens.base import KioskScreen

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[*_](?![*_\s])(.+?)(?<![\s*_])[*_](?![\w*])")


def markdown_to_markup(text: str, heading_size: int = 36) -> str:
    """The consent documents are short Markdown; show headings and emphasis, never raw ``#``/``**``.

    The text is escaped first, so nothing in a document can inject Kivy markup."""
    lines = []
    for raw in text.splitlines():
        line = escape_markup(raw)
        heading = _HEADING.match(line)
        if heading:
            line = f"[size={heading_size}][b]{heading.group(2)}[/b][/size]"
        else:
            line = _BOLD.sub(r"[b]\1[/b]", line)
            line = _ITALIC.sub(r"[i]\1[/i]", line)
        lines.append(line)
    return "\n".join(lines)


class ConsentsScreen(KioskScreen):
    step = "consents"
    progress_step = "consents"
    heading = StringProperty("")
    document_text = StringProperty("")
    document_markup = StringProperty("")
    count_text = StringProperty("")
    signature_error = StringProperty("")

    def on_render(self, data: dict[str, Any], errors: dict[str, str]) -> None:
        doc = dict(data.get("document") or {})
        new_document = doc.get("text", "") != self.document_text or doc.get("title", "") != self.heading
        self.heading = str(doc.get("title") or _("Consent"))
        self.document_text = str(doc.get("text") or "")
        self.document_markup = markdown_to_markup(self.document_text)
        count = int(data.get("count") or 1)
        self.count_text = (
            _("Document {n} of {total}").format(n=int(data.get("index") or 0) + 1, total=count) if count > 1 else ""
        )
        self.signature_error = self.error_text("signature")
        if new_document:
            self.ids.pad.clear()
            self.ids.text_scroll.scroll_y = 1

    def sign(self) -> None:
        pad = self.ids.pad
        self.emit(
            {
                "action": "sign",
                "strokes": [[list(p) for p in stroke] for stroke in pad.strokes],
                "png": pad.to_png() if not pad.is_empty else b"",
                "pad_size": list(pad.pad_size),
            }
        )

    def decline(self) -> None:
        self.emit({"action": "decline"})

    def clear_signature(self) -> None:
        self.ids.pad.clear()
        self.signature_error = ""

    def clear(self) -> None:
        self.ids.pad.clear()
        self.heading = self.document_text = self.document_markup = ""
        self.count_text = self.signature_error = ""
        super().clear()
