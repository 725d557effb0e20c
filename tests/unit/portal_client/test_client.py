"""FhirClient: status codes map to one exception tree; searches keep personal data out of URLs."""

from __future__ import annotations

import httpx
import pytest

from portal_client.client import FhirClient, version_etag
from portal_client.errors import (
    AuthError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    NotFound,
    PreconditionFailed,
)

OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}


def _client(handler) -> FhirClient:  # type: ignore[no-untyped-def]
    return FhirClient("http://127.0.0.1:9/fhir/R4", transport=httpx.MockTransport(handler))


def test_search_sends_values_in_a_post_body_not_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": []})

    with _client(handler) as client:
        client.search("Patient", {"family": "Whitfield", "birthdate": "1948-03-09"})
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == "/fhir/R4/Patient/_search"
    assert "Whitfield" not in str(request.url) and "1948" not in str(request.url)
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert b"family=Whitfield" in request.content


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (403, AuthError), (404, NotFound), (410, NotFound), (412, PreconditionFailed),
     (400, BackendRejected), (422, BackendRejected), (429, BackendUnavailable), (500, BackendUnavailable),
     (503, BackendUnavailable)],
)
def test_status_codes_map_to_the_exception_tree(status: int, error: type[Exception]) -> None:
    with _client(lambda r: httpx.Response(status, json=OUTCOME)) as client:
        with pytest.raises(error) as info:
            client.read("Patient", "p1")
    assert info.value.status == status  # type: ignore[attr-defined]
    assert info.value.outcome == OUTCOME  # type: ignore[attr-defined]


def test_retry_after_seconds_is_kept() -> None:
    with _client(lambda r: httpx.Response(503, headers={"Retry-After": "7"})) as client:
        with pytest.raises(BackendUnavailable) as info:
            client.read("Patient", "p1")
    assert info.value.retry_after == 7.0


def test_timeout_and_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with _client(slow) as client, pytest.raises(BackendTimeout):
        client.read("Patient", "p1")
    with FhirClient("http://127.0.0.1:9/fhir/R4", timeout=2) as client, pytest.raises(BackendUnavailable):
        client.read("Patient", "p1")  # port 9 (discard) is closed here


def test_error_messages_carry_no_query() -> None:
    with _client(lambda r: httpx.Response(500)) as client:
        with pytest.raises(BackendUnavailable) as info:
            client.request("GET", "Patient?family=Whitfield&birthdate=1948-03-09")
    assert "Whitfield" not in str(info.value) and "1948" not in str(info.value)


def test_version_etag_is_quoted() -> None:
    assert version_etag({"meta": {"versionId": "abc"}}) == 'W/"abc"'
    assert version_etag({}) is None
