"""Fixtures and helpers for tests that drive the whole kiosk app (imported by tests/ui/test_*.py).

The runtime is the real one (``kiosk.runtime.build_runtime``) from config/default.toml, pointed at the FHIR
sandbox of tests/conftest.py and a temporary data folder; the flow's clock is the seeded schedule's fixed
"now" (``seed.TEST_NOW``), so no test depends on the wall clock.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from kiosk.settings import DEFAULT_CONFIG, load_settings
from kiosk.ui.walker import Walker, mount_app

log = logging.getLogger(__name__)


def settings_with(sections: dict[str, dict[str, Any]]) -> Any:
    """config/default.toml with some keys replaced (values as written in the file)."""
    return load_settings(DEFAULT_CONFIG).with_overrides(**sections)


class FixedClock:
    def __init__(self, now: Any) -> None:
        self._now = now

    def now(self) -> Any:
        return self._now


def build_kiosk_runtime(base_url: str, now: Any, data: Path, **overrides: dict[str, Any]) -> Any:
    from kiosk.runtime import build_runtime

    sections: dict[str, dict[str, Any]] = {
        "backend": {"base_url": base_url},
        "kiosk": {"data_dir": str(data / "data")},
        "outbox": {"key_file": str(data / "keys" / "outbox.key")},
        "sync": {"enabled": False},  # the tests drain the outbox themselves
    }
    for name, values in overrides.items():
        sections.setdefault(name, {}).update(values)
    # The flow reads time from the runtime's clock: pinned to the seeded schedule's "now".
    return build_runtime(settings_with(sections), clock=FixedClock(now))


def runtime_for(sandbox_seed: Any, tmp_path: Path, **overrides: dict[str, Any]) -> Iterator[Any]:
    """Body of a ``kiosk_runtime`` fixture: the real runtime on the seeded sandbox, stopped afterwards."""
    runtime = build_kiosk_runtime(sandbox_seed.base_url, sandbox_seed.now, tmp_path, **overrides)
    try:
        yield runtime
    finally:
        runtime.stop()


def walker_for(runtime: Any, ui: Any) -> Iterator[Walker]:
    """Body of a ``kiosk`` fixture: the real KioskApp in the offscreen window, on its welcome screen."""
    app, _ = mount_app(runtime)
    walker = Walker(app, ui)
    try:
        yield walker
    finally:
        app.shutdown()


# -- what the sandbox holds -----------------------------------------------------------------------------
class Fhir:
    """Plain HTTP reads of the sandbox (what staff systems would see)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = httpx.Client(timeout=10.0)

    def read(self, resource_type: str, rid: str) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/{resource_type}/{rid}")
        response.raise_for_status()
        return dict(response.json())

    def search(self, resource_type: str, **params: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.base}/{resource_type}", params={"_count": "200", **params})
        response.raise_for_status()
        return [e["resource"] for e in response.json().get("entry", [])]

    def close(self) -> None:
        self.http.close()


# -- what the screen holds ------------------------------------------------------------------------------
def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from _strings(v)


def widget_strings(widget: Any) -> Iterator[str]:
    """Every string in a widget's Kivy properties (text, hint_text, title, data, values...)."""
    for name in widget.properties():
        try:
            value = getattr(widget, name)
        except Exception:
            continue
        yield from _strings(value)


def all_app_widgets(app: Any) -> list[Any]:
    """Every widget of the app: the window tree, every screen (also those not shown), off-tree stage
    widgets, keyboards and overlays, and any other live Widget object."""
    from kivy.core.window import Window
    from kivy.uix.widget import Widget

    roots: list[Any] = [Window, app.root_widget, app.busy_overlay, app.idle_warning]
    for screen in app.screens.values():
        roots.append(screen)
        roots.extend(getattr(screen, "_stages", {}).values())
        keyboard = getattr(screen, "keyboard", None)
        if keyboard is not None:
            roots.append(keyboard)
    seen: dict[int, Any] = {}
    for root in roots:
        if root is None:
            continue
        walker = root.walk(restrict=True) if isinstance(root, Widget) else [root, *root.children]
        for widget in walker:
            seen[id(widget)] = widget
    gc.collect()
    for obj in gc.get_objects():
        try:
            if isinstance(obj, Widget):
                seen[id(obj)] = obj
        except ReferenceError:  # a weak proxy whose widget is gone
            continue
    return list(seen.values())


def find_text(app: Any, needles: list[str]) -> list[str]:
    """Which of ``needles`` (case-insensitive) appear in any widget's strings; with the widget class."""
    lowered = [n.casefold() for n in needles if n]
    hits = []
    for widget in all_app_widgets(app):
        try:
            texts = list(widget_strings(widget))
        except ReferenceError:
            continue
        for text in texts:
            folded = text.casefold()
            for needle in lowered:
                if needle in folded:
                    real = getattr(widget, "__self__", widget)
                    hits.append(f"{type(real).__name__}#{id(real)}: {needle!r}")
    return hits
