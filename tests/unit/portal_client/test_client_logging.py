"""The FHIR client's logs name methods and resource types, never a query (names, birth dates)."""

from __future__ import annotations

import logging

import httpx
import pytest

from portal_client.client import FhirClient


def test_search_queries_stay_out_of_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset"})

    with FhirClient("http://fhir.test/fhir/R4", transport=httpx.MockTransport(handler)) as client:
        client.search("Patient", {"family": "Chalmers", "birthdate": "1974-12-25"})
    assert "POST Patient" in caplog.text
    assert "Chalmers" not in caplog.text and "1974" not in caplog.text
