"""A small, typed client for the parts of Stripe's REST API a semi-integrated terminal uses (stdlib only).

Stripe's API takes form-encoded bodies with bracketed keys (``metadata[checkin]=...``,
``payment_method_types[0]=card_present``) and answers JSON; errors are ``{"error": {"type", "code",
"decline_code", "message"}}`` with a 4xx/5xx status. ``Idempotency-Key`` makes a POST safe to repeat: the same
key returns the first answer (for 24 hours). Authentication is the secret key as a bearer token.

The exception tree is split by what a caller may conclude (DESIGN §10.4):

    StripeError               the request failed
    ├── StripeUnreachable     nothing reached Stripe (connection refused, DNS, TLS): nothing happened
    ├── StripeTimeout         sent, no answer in time: the outcome is UNKNOWN (ask before retrying)
    └── StripeApiError        Stripe answered with an error (status, type, code, decline_code)

This module never logs request or response bodies; card data never passes through it in the first place
(the reader sends it to Stripe, not to the kiosk).
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Params = Mapping[str, Any]


class StripeError(Exception):
    """Base of everything this client raises. Messages carry ids and codes, never card data."""


class StripeUnreachable(StripeError):
    """The request never reached Stripe: nothing was done."""


class StripeTimeout(StripeError):
    """The request was (maybe) received but no answer came in time: its outcome is unknown."""


class StripeApiError(StripeError):
    def __init__(self, status: int, error: Mapping[str, Any]) -> None:
        self.status = status
        self.type = str(error.get("type") or "")
        self.code = str(error.get("code") or "")
        self.decline_code = str(error.get("decline_code") or "")
        super().__init__(f"HTTP {status} {self.type} {self.code}".strip())


def encode_form(params: Params) -> str:
    """Stripe's form encoding: nested mappings and lists become bracketed keys."""
    pairs: list[tuple[str, str]] = []

    def add(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                add(f"{prefix}[{key}]", item)
        elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
            for index, item in enumerate(value):
                add(f"{prefix}[{index}]", item)
        elif isinstance(value, bool):
            pairs.append((prefix, "true" if value else "false"))
        else:
            pairs.append((prefix, str(value)))

    for key, value in params.items():
        add(key, value)
    return urlencode(pairs)


class StripeClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.stripe.com",
        timeout: float = 10.0,
        api_version: str = "",
        user_agent: str = "open-checkin-kiosk",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not api_key:
            raise ValueError("api_key is empty")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._api_version = api_version
        self._user_agent = user_agent
        self._ssl = ssl_context or ssl.create_default_context()  # certificate and host name checked

    def get(self, path: str, params: Params | None = None) -> JSON:
        query = f"?{encode_form(params)}" if params else ""
        return self._request("GET", path + query, None, None)

    def post(self, path: str, params: Params | None = None, *, idempotency_key: str | None = None) -> JSON:
        return self._request("POST", path, encode_form(params or {}), idempotency_key)

    @staticmethod
    def quote_id(value: str) -> str:
        return quote(value, safe="")

    # -- internals ----------------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._ssl)
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _request(self, method: str, path: str, body: str | None, idempotency_key: str | None) -> JSON:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": self._user_agent,
            "Accept": "application/json",
        }
        if self._api_version:
            headers["Stripe-Version"] = self._api_version
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        route = path.split("?", 1)[0]
        started = time.monotonic()
        connection = self._connection()
        sent = False
        try:
            try:
                connection.connect()
            except (TimeoutError, OSError) as exc:  # refused, unreachable, DNS, TLS handshake
                raise StripeUnreachable(f"{method} {route}: cannot connect ({type(exc).__name__})") from exc
            try:
                connection.request(method, self._prefix + path, body=body, headers=headers)
                sent = True
                response = connection.getresponse()
                status = response.status
                raw = response.read()
            except TimeoutError as exc:
                raise StripeTimeout(f"{method} {route}: no answer within {self._timeout:g} s") from exc
            except (OSError, http.client.HTTPException) as exc:
                if not sent:
                    raise StripeUnreachable(f"{method} {route}: not sent ({type(exc).__name__})") from exc
                raise StripeTimeout(f"{method} {route}: connection lost ({type(exc).__name__})") from exc
        finally:
            connection.close()
        elapsed = (time.monotonic() - started) * 1000
        log.debug("stripe %s %s -> %d (%.0f ms)", method, route, status, elapsed)
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if status >= 500:
            # Stripe may or may not have acted: the same as no answer.
            raise StripeTimeout(f"{method} {route}: HTTP {status}")
        if status >= 400:
            error = data.get("error")
            raise StripeApiError(status, error if isinstance(error, Mapping) else {})
        return data
