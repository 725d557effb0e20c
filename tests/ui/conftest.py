"""UI tests drive a real Kivy window (SDL offscreen). The harness lives in kiosk/ui/testing.py.

Importing kiosk.ui.testing FIRST sets the environment Kivy needs before it is imported (RECIPES §2).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import kiosk.ui.testing  # noqa: F401  (must precede every kivy import)
from kiosk.ui.testing import UIHarness, harness

SCREENSHOT_DIR = Path("/tmp/widgets")


@pytest.fixture(scope="session", autouse=True)
def ui_session() -> UIHarness:
    """The one window of this test process (created once; kv rules loaded before any widget is built)."""
    return harness()


@pytest.fixture
def ui(ui_session: UIHarness) -> Iterator[UIHarness]:
    """The harness with a clean window and the default look/language; cleaned again afterwards."""
    from kiosk.ui.i18n_kv import reset_language
    from kiosk.ui.theme import theme

    theme.reset()
    reset_language()
    ui_session.unmount()
    yield ui_session
    ui_session.unmount()
    theme.reset()
    reset_language()


@pytest.fixture
def shots() -> Path:
    """Where tests drop screenshots for a human to look at."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
