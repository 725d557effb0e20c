"""Fixtures of the check-in flow tests: a practice of fakes wired to a CheckinFlow (no Kivy)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flow_driver import Practice, make_practice


@pytest.fixture
def practice() -> Practice:
    return make_practice()
