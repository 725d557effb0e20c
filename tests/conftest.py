"""Shared fixtures. Keep this file small and generic: subfolders add their own conftest.py.

The FHIR sandbox (portal_client/sandbox): one server per test session on a free 127.0.0.1 port.
``sandbox_url`` / ``sandbox_seed``: reset + the demo practice seeded around ``seed.TEST_NOW`` (fixed time);
``empty_sandbox_url``: reset only.
Tests that use it skip with a reason ONLY when its node_modules are missing (run ``scripts/setup``) and
``KIOSK_REQUIRE_SANDBOX`` is not set; CI sets it, so there a missing sandbox fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from portal_client.sandbox import Sandbox, node_modules_present
from portal_client.sandbox.seed import TEST_NOW, SeedInfo, seed


@pytest.fixture(scope="session")
def fhir_sandbox() -> Iterator[Sandbox]:
    """The running FHIR sandbox (session-scoped). Its store is shared: prefer ``sandbox_url``."""
    if not node_modules_present() and not os.environ.get("KIOSK_REQUIRE_SANDBOX"):
        pytest.skip(
            "FHIR sandbox not installed (portal_client/sandbox/node_modules missing): run scripts/setup"
        )
    sandbox = Sandbox()
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def empty_sandbox_url(fhir_sandbox: Sandbox) -> str:
    """The FHIR base URL of a freshly emptied sandbox, e.g. ``http://127.0.0.1:43123/fhir/R4``."""
    fhir_sandbox.reset()
    return fhir_sandbox.base_url


@pytest.fixture
def sandbox_seed(fhir_sandbox: Sandbox) -> SeedInfo:
    """A freshly emptied sandbox seeded with the demo practice around ``seed.TEST_NOW`` (a fixed time)."""
    fhir_sandbox.reset()
    return seed(fhir_sandbox.base_url, now=TEST_NOW)


@pytest.fixture
def sandbox_url(sandbox_seed: SeedInfo) -> str:
    """The FHIR base URL of a freshly reset and seeded sandbox, e.g. ``http://127.0.0.1:43123/fhir/R4``."""
    return sandbox_seed.base_url
