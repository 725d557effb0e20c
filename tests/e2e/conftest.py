"""e2e helpers: the folder is importable (tcp_proxy, checkin_driver); ``kiosk_proxy`` puts a TCP proxy that
a test can cut between the kiosk and the session's FHIR sandbox; ``crowd_site`` seeds N crowd patients."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tcp_proxy import TcpProxy


@pytest.fixture
def kiosk_proxy(fhir_sandbox) -> Iterator[TcpProxy]:  # type: ignore[no-untyped-def]
    port = int(fhir_sandbox.base_url.split(":")[2].split("/")[0])
    proxy = TcpProxy(port)
    yield proxy
    proxy.close()
