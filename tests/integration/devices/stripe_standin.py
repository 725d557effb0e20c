"""A local stand-in for the slice of Stripe's API a server-driven Terminal integration uses (127.0.0.1 only).

Follows Stripe's public reference (objects, form-encoded bracketed parameters, error shape, Idempotency-Key
replay and mismatch, simulated-reader test helper):

- ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}`` (``expand[]=latest_charge``),
  ``GET /v1/payment_intents/search?query=metadata['k']:'v'``
- ``GET /v1/terminal/readers/{id}``, ``POST .../process_payment_intent``, ``POST .../cancel_action``
- ``POST /v1/test_helpers/terminal/readers/{id}/present_payment_method`` with ``card_present[number]``:
  Stripe's test cards 4242424242424242 (Visa, approved), 5555555555554444 (Mastercard, approved) and
  4000000000000002 (declined, ``card_declined`` / ``generic_decline``).

The full card number exists only here, on the "reader" side (``presented``): responses carry the brand and
the last four digits, as Stripe's do. Test controls that are not part of Stripe's API are Python methods:
:meth:`customer_cancels` (the Cancel button on the reader), :meth:`hang` / :meth:`release` (requests stop
being answered: the network or Stripe is stuck), ``reader_online``, :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TEST_CARDS = {
    "4242424242424242": ("visa", None),
    "5555555555554444": ("mastercard", None),
    "4000000000000002": ("visa", "generic_decline"),
}
SECRET_KEY = "sk_test_standin_4eC39HqLyjWDarjtT1zdp7dc"


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracketed form keys back into dicts and lists (``a[b][0]=x``)."""
    out: dict[str, Any] = {}
    for raw_key, value in pairs:
        key = raw_key.replace("]", "")
        parts = key.split("[")
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if part == "" or int(part) >= len(node):
                    node.append(value if last else ({} if not parts[i + 1].isdigit() else []))
                    node = node[-1]
                else:
                    node = node[int(part)]
                continue
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, [] if parts[i + 1].isdigit() or parts[i + 1] == "" else {})
    return out


class ApiError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str = "", **extra: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **({"code": code} if code else {}), **extra}}


class StripeStandIn:
    def __init__(self, *, api_key: str = SECRET_KEY, reader_id: str = "tmr_StandInWisePosE1") -> None:
        self.api_key = api_key
        self.reader_id = reader_id
        self.reader_online = True
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.action: dict[str, Any] | None = None
        self.presented: list[str] = []  # full card numbers: reader side only
        self.requests: list[tuple[str, str, str]] = []  # (method, path, idempotency key)
        self.process_calls = 0
        self.action_started = threading.Event()
        self._idempotency: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._hanging = False
        self._released = threading.Event()
        self._released.set()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = self._server.server_address[1]
        self.api_base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-standin", daemon=True
        )
        self._thread.start()

    # -- test controls ------------------------------------------------------------------------------------
    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def hang(self) -> None:
        """From now on, API requests (not test helpers) get no answer until :meth:`release`."""
        with self._lock:
            self._hanging = True
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hanging = False
            self._released.set()

    def customer_cancels(self) -> None:
        """The patient presses Cancel on the reader."""
        with self._lock:
            if self.action and self.action["status"] == "in_progress":
                self.action.update(status="failed", failure_code="customer_canceled",
                                   failure_message="The customer canceled the transaction.")

    def present_card(self, number: str = "4242424242424242") -> dict[str, Any]:
        """What the test helper endpoint does (also reachable over HTTP)."""
        with self._lock:
            return self._present({"type": "card_present", "card_present": {"number": number}})

    @property
    def charge_count(self) -> int:
        with self._lock:
            return len(self.charges)

    # -- HTTP ---------------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        path = unquote(url.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        key = handler.headers.get("Idempotency-Key") or ""
        with self._lock:
            self.requests.append((method, path, key))
            hanging = self._hanging and not path.startswith("/v1/test_helpers/")
        if hanging:
            self._released.wait()
        params = nest(parse_qsl(url.query if method == "GET" else body, keep_blank_values=True))
        replayed = False
        try:
            if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
                raise ApiError(401, "invalid_request_error", "Invalid API Key provided.")
            with self._lock:
                if method == "POST" and key:
                    fingerprint = f"{path}?{body}"
                    if key in self._idempotency:
                        first, status, answer = self._idempotency[key]
                        if first != fingerprint:
                            raise ApiError(400, "idempotency_error", "Keys for idempotent requests can only be "
                                           "used with the same parameters they were first used with.")
                        replayed = True
                    else:
                        try:
                            status, answer = 200, self._route(method, path, params)
                        except ApiError as exc:
                            status, answer = exc.status, exc.body
                        self._idempotency[key] = (fingerprint, status, answer)
                else:
                    status, answer = 200, self._route(method, path, params)
        except ApiError as exc:
            status, answer = exc.status, exc.body
        data = json.dumps(answer).encode()
        with contextlib.suppress(OSError):  # the client may have given up (timeouts)
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
            if replayed:
                handler.send_header("Idempotent-Replayed", "true")
            handler.end_headers()
            handler.wfile.write(data)

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["v1", "payment_intents"] and parts[:3] != ["v1", "terminal", "readers"] and parts[:4] != [
            "v1", "test_helpers", "terminal", "readers"
        ]:
            raise ApiError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")
        if parts == ["v1", "payment_intents"] and method == "POST":
            return self._create_intent(params)
        if parts == ["v1", "payment_intents", "search"] and method == "GET":
            return self._search(params)
        if len(parts) == 3 and parts[1] == "payment_intents" and method == "GET":
            return self._expanded(self._intent(parts[2]), params)
        if parts[:3] == ["v1", "terminal", "readers"] or parts[:2] == ["v1", "test_helpers"]:
            reader = parts[3] if parts[1] == "terminal" else parts[4]
            if reader != self.reader_id:
                raise ApiError(404, "invalid_request_error", f"No such terminal.reader: '{reader}'",
                               code="resource_missing")
            tail = parts[4:] if parts[1] == "terminal" else parts[5:]
            if tail == [] and method == "GET":
                return self._reader()
            if tail == ["process_payment_intent"] and method == "POST":
                return self._process(params)
            if tail == ["cancel_action"] and method == "POST":
                if self.action and self.action["status"] == "in_progress":
                    self.action = None
                return self._reader()
            if tail == ["present_payment_method"] and method == "POST":
                return self._present(params)
        raise ApiError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    # -- objects ------------------------------------------------------------------------------------------
    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise ApiError(400, "invalid_request_error", "Missing required param: amount.", param="amount") from None
        if "card_present" not in (params.get("payment_method_types") or []):
            raise ApiError(400, "invalid_request_error", "payment_method_types must include card_present")
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": params.get("currency", "usd"), "status": "requires_payment_method",
            "capture_method": params.get("capture_method", "automatic"),
            "payment_method_types": params["payment_method_types"], "description": params.get("description"),
            "metadata": params.get("metadata") or {}, "latest_charge": None, "last_payment_error": None,
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return dict(intent)

    def _intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.intents:
            raise ApiError(404, "invalid_request_error", f"No such payment_intent: '{intent_id}'",
                           code="resource_missing")
        return self.intents[intent_id]

    def _expanded(self, intent: dict[str, Any], params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out = json.loads(json.dumps(intent))
        if f"{prefix}latest_charge" in (params.get("expand") or []) and out["latest_charge"]:
            out["latest_charge"] = self.charges[out["latest_charge"]]
        return out

    def _search(self, params: dict[str, Any]) -> dict[str, Any]:
        query = params.get("query", "")
        prefix, _, rest = query.partition("metadata['")
        key, _, value = rest.partition("']:'")
        if prefix or not value.endswith("'"):
            raise ApiError(400, "invalid_request_error", "This stand-in searches metadata['key']:'value' only.")
        value = value[:-1]
        found = [self._expanded(i, params, "data.") for i in self.intents.values() if i["metadata"].get(key) == value]
        return {"object": "search_result", "data": found, "has_more": False, "url": "/v1/payment_intents/search"}

    def _reader(self) -> dict[str, Any]:
        return {
            "id": self.reader_id, "object": "terminal.reader", "action": json.loads(json.dumps(self.action)),
            "device_type": "simulated_wisepos_e", "label": "Lobby kiosk", "livemode": False,
            "serial_number": "standin-0001", "status": "online" if self.reader_online else "offline",
        }

    def _process(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.reader_online:
            raise ApiError(400, "invalid_request_error", "Reader is currently unreachable.",
                           code="terminal_reader_offline")
        intent = self._intent(str(params.get("payment_intent")))
        if self.action and self.action["status"] == "in_progress":
            raise ApiError(400, "invalid_request_error", "Reader is currently busy processing another request.",
                           code="terminal_reader_busy")
        if intent["status"] != "requires_payment_method":
            raise ApiError(400, "invalid_request_error", f"This PaymentIntent's status is {intent['status']}.",
                           code="payment_intent_unexpected_state")
        self.process_calls += 1
        self.action = {
            "type": "process_payment_intent", "status": "in_progress", "failure_code": None,
            "failure_message": None,
            "process_payment_intent": {"payment_intent": intent["id"],
                                       "process_config": params.get("process_config") or {}},
        }
        self.action_started.set()
        return self._reader()

    def _present(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.action or self.action["status"] != "in_progress":
            raise ApiError(400, "invalid_request_error", "The reader has no action in progress.",
                           code="terminal_reader_invalid_state")
        number = str((params.get("card_present") or {}).get("number") or "4242424242424242")
        self.presented.append(number)
        brand, decline = TEST_CARDS.get(number, ("visa", None))
        intent = self.intents[self.action["process_payment_intent"]["payment_intent"]]
        if decline:
            intent["last_payment_error"] = {"type": "card_error", "code": "card_declined", "decline_code": decline,
                                            "message": "Your card was declined."}
            self.action.update(status="failed", failure_code="card_declined",
                               failure_message="Your card was declined.")
            return self._reader()
        charge_id = f"ch_{secrets.token_hex(12)}"
        auth = f"{secrets.randbelow(1_000_000):06d}"
        self.charges[charge_id] = {
            "id": charge_id, "object": "charge", "amount": intent["amount"], "currency": intent["currency"],
            "payment_intent": intent["id"], "status": "succeeded", "paid": True, "captured": True,
            "authorization_code": auth,
            "payment_method_details": {"type": "card_present", "card_present": {
                "brand": brand, "last4": number[-4:], "exp_month": 12, "exp_year": 2030, "funding": "credit",
                "read_method": "contactless_emv",
                "receipt": {"authorization_code": auth, "application_preferred_name": brand.title(),
                            "account_type": "credit"},
            }},
        }
        intent.update(status="succeeded", latest_charge=charge_id, amount_received=intent["amount"],
                      last_payment_error=None)
        self.action.update(status="succeeded")
        return self._reader()
