"""devices.payment.stripe_api: Stripe's form encoding and the error tree (no network beyond 127.0.0.1)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qsl

import pytest

from devices.payment.stripe_api import StripeClient, StripeUnreachable, encode_form


def test_form_encoding_uses_brackets_like_stripe() -> None:
    encoded = encode_form({
        "amount": 2500,
        "payment_method_types": ["card_present"],
        "metadata": {"kiosk_reference": "abc"},
        "process_config": {"enable_customer_cancellation": True},
        "expand": ["latest_charge"],
        "skipped": None,
    })
    assert parse_qsl(encoded) == [
        ("amount", "2500"),
        ("payment_method_types[0]", "card_present"),
        ("metadata[kiosk_reference]", "abc"),
        ("process_config[enable_customer_cancellation]", "true"),
        ("expand[0]", "latest_charge"),
    ]


def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        client = StripeClient("sk_test_x", base_url=f"http://127.0.0.1:{port}", timeout=1.0)
        with pytest.raises(StripeUnreachable, match="cannot connect"):
            client.get("/v1/terminal/readers/tmr_1")


def test_client_checks_its_arguments() -> None:
    with pytest.raises(ValueError):
        StripeClient("sk_test_x", base_url="ftp://api.stripe.com")
    with pytest.raises(ValueError):
        StripeClient("", base_url="https://api.stripe.com")
