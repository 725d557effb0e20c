"""portal_client.auth: JWT assertions (RS384/ES384), token caching and refresh, 401 retry, discovery, keys.

The token endpoint and FHIR server here are ``httpx.MockTransport`` handlers; the whole path against a real
token endpoint (the sandbox's, checking signatures with Node's crypto) is tests/integration/test_auth_sandbox.py.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from portal_client.auth import (
    ASSERTION_TYPE,
    BearerToken,
    SigningKeyError,
    SmartBackendAuth,
    jwk_thumbprint,
    jwks,
    load_private_key,
    public_jwk,
    sign_jwt,
    tls_context,
)
from portal_client.client import FhirClient
from portal_client.errors import AuthError, BackendUnavailable

BASE = "https://ehr.test/fhir/R4"
TOKEN_URL = "https://auth.ehr.test/oauth2/token"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _decode(jwt: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, claims, signature = jwt.split(".")
    return json.loads(_b64(header)), json.loads(_b64(claims)), f"{header}.{claims}".encode(), _b64(signature)


class FakeEhr:
    """A token endpoint (with discovery) and a FHIR server that wants the latest token."""

    def __init__(self, *, expires_in: int = 300, discovery: dict[str, Any] | None = None) -> None:
        self.expires_in = expires_in
        self.discovery = discovery or {
            "token_endpoint": TOKEN_URL,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        }
        self.forms: list[dict[str, list[str]]] = []
        self.valid: set[str] = set()
        self.token_answer: httpx.Response | Exception | None = None
        self.fhir_seen: list[str | None] = []
        self.discoveries = 0
        self._n = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == f"{BASE}/.well-known/smart-configuration":
            self.discoveries += 1
            return httpx.Response(200, json=self.discovery)
        if url == TOKEN_URL:
            self.forms.append(parse_qs(request.content.decode()))
            if isinstance(self.token_answer, Exception):
                raise self.token_answer
            if self.token_answer is not None:
                return self.token_answer
            self._n += 1
            token = f"token-{self._n}"
            self.valid = {token}
            return httpx.Response(200, json={"access_token": token, "token_type": "bearer",
                                             "expires_in": self.expires_in, "scope": "system/*.rs"})  # fmt: skip
        header = request.headers.get("Authorization")
        self.fhir_seen.append(header)
        if header is None or header.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"resourceType": "OperationOutcome", "issue": [{"code": "login"}]})
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "total": 0})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


class Clock:
    def __init__(self) -> None:
        self.t = 1_741_790_000.0

    def __call__(self) -> float:
        return self.t


def make_auth(ehr: FakeEhr, clock: Clock, key: Any = RSA_KEY, alg: str = "RS384", **kw: Any) -> SmartBackendAuth:
    return SmartBackendAuth(client_id="lobby-1", private_key=key, algorithm=alg,  # type: ignore[arg-type]
                            fhir_base_url=BASE, clock=clock, transport=ehr.transport(), **kw)  # fmt: skip


# -- assertions ----------------------------------------------------------------------------------------------
def test_rs384_assertion_is_a_verifiable_jwt_with_the_smart_claims() -> None:
    ehr, clock = FakeEhr(), Clock()
    auth = make_auth(ehr, clock)
    header, claims, signed, signature = _decode(auth.assertion(clock.t))
    assert header == {"alg": "RS384", "kid": public_jwk(RSA_KEY, "RS384")["kid"], "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == "lobby-1"
    assert claims["aud"] == TOKEN_URL  # found by discovery
    assert 0 < claims["exp"] - clock.t <= 300 and claims["iat"] == int(clock.t)
    RSA_KEY.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA384())
    with pytest.raises(InvalidSignature):
        RSA_KEY.public_key().verify(signature, signed + b"x", padding.PKCS1v15(), hashes.SHA384())
    assert _decode(auth.assertion(clock.t))[1]["jti"] != claims["jti"]  # a fresh jti every time


def test_es384_signature_is_raw_r_and_s() -> None:
    jwt = sign_jwt({"iss": "k"}, EC_KEY, "ES384", "kid-1")
    header, _claims, signed, signature = _decode(jwt)
    assert header["alg"] == "ES384" and len(signature) == 96
    der = encode_dss_signature(int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big"))
    EC_KEY.public_key().verify(der, signed, ec.ECDSA(hashes.SHA384()))


def test_public_jwk_and_rfc7638_thumbprint() -> None:
    # RFC 7638 section 3.1's example key and thumbprint.
    example = {
        "kty": "RSA",
        "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
        "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRw"
        "r3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert jwk_thumbprint(example) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    jwk = public_jwk(EC_KEY, "ES384")
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-384" and len(_b64(jwk["x"])) == 48
    assert jwk["kid"] == jwk_thumbprint(jwk) and jwk["alg"] == "ES384" and "d" not in jwk
    assert jwks(RSA_KEY, "RS384", kid="mine")["keys"][0]["kid"] == "mine"


# -- tokens --------------------------------------------------------------------------------------------------
def test_token_is_fetched_once_and_cached_until_shortly_before_expiry() -> None:
    ehr, clock = FakeEhr(expires_in=300), Clock()
    auth = make_auth(ehr, clock, refresh_margin=60)
    with FhirClient(BASE, auth=auth, transport=ehr.transport()) as fhir:
        fhir.search("Patient", {})
        fhir.search("Patient", {})
        assert len(ehr.forms) == 1 and ehr.discoveries == 1
        form = ehr.forms[0]
        assert form["grant_type"] == ["client_credentials"]
        assert form["client_assertion_type"] == [ASSERTION_TYPE]
        assert "system/Encounter.crs" in form["scope"][0]
        clock.t += 239  # 61 s left: still good
        fhir.search("Patient", {})
        assert len(ehr.forms) == 1
        clock.t += 2  # 59 s left: renewed before it is used
        fhir.search("Patient", {})
        assert len(ehr.forms) == 2 and auth.tokens_fetched == 2
    assert ehr.fhir_seen == ["Bearer token-1"] * 3 + ["Bearer token-2"]  # never a refused request
    assert "token-2" not in repr(auth.token())


def test_short_tokens_are_renewed_at_half_life() -> None:
    ehr, clock = FakeEhr(expires_in=60), Clock()
    auth = make_auth(ehr, clock, refresh_margin=60)
    auth.token()
    clock.t += 29
    auth.token()
    assert auth.tokens_fetched == 1
    clock.t += 2
    auth.token()
    assert auth.tokens_fetched == 2


def test_a_401_drops_the_token_and_retries_once() -> None:
    ehr, clock = FakeEhr(), Clock()
    auth = make_auth(ehr, clock)
    with FhirClient(BASE, auth=auth, transport=ehr.transport()) as fhir:
        fhir.search("Patient", {})
        ehr.valid = set()  # the server forgot every token (restart, revocation)
        ehr_token_count = len(ehr.forms)
        # the next token the fake issues is valid again, so the retry succeeds
        fhir.search("Patient", {})
        assert len(ehr.forms) == ehr_token_count + 1
        assert ehr.fhir_seen[-2:] == ["Bearer token-1", "Bearer token-2"]


def test_a_second_401_is_an_auth_error() -> None:
    ehr, clock = FakeEhr(), Clock()

    def refuse_all(request: httpx.Request) -> httpx.Response:
        if "/fhir/R4/Patient" in str(request.url):
            return httpx.Response(401, json={"resourceType": "OperationOutcome", "issue": [{"code": "login"}]})
        return ehr.handle(request)

    auth = SmartBackendAuth(client_id="lobby-1", private_key=RSA_KEY, fhir_base_url=BASE, clock=clock,
                            transport=httpx.MockTransport(refuse_all))  # fmt: skip
    with FhirClient(BASE, auth=auth, transport=httpx.MockTransport(refuse_all)) as fhir:
        with pytest.raises(AuthError) as err:
            fhir.search("Patient", {})
    assert err.value.status == 401 and auth.tokens_fetched == 2


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        (httpx.Response(401, json={"error": "invalid_client", "error_description": "bad sig for lobby-1"}),
         AuthError, "token request: HTTP 401 (invalid_client)"),
        (httpx.Response(400, json={"error": "invalid_scope"}), AuthError, "(invalid_scope)"),
        (httpx.Response(503), BackendUnavailable, "token request: HTTP 503"),
        (httpx.ConnectError("refused"), BackendUnavailable, "cannot reach"),
        (httpx.ReadTimeout("slow"), BackendUnavailable, "no answer in time"),
        (httpx.Response(200, json={"token_type": "bearer"}), AuthError, "without an access_token"),
        (httpx.Response(200, json={"access_token": "x", "token_type": "mac"}), AuthError, "bearer token"),
    ],
)  # fmt: skip
def test_token_endpoint_failures_map_to_the_error_tree(answer: Any, error: type[Exception], text: str) -> None:
    ehr, clock = FakeEhr(), Clock()
    ehr.token_answer = answer
    auth = make_auth(ehr, clock)
    with FhirClient(BASE, auth=auth, transport=ehr.transport()) as fhir, pytest.raises(error) as err:
        fhir.search("Patient", {})
    assert text in str(err.value)
    assert "bad sig" not in str(err.value) and "eyJ" not in str(err.value)  # no description, no assertion


def test_discovery_checks_what_the_server_accepts() -> None:
    clock = Clock()
    no_jwt = FakeEhr(
        discovery={"token_endpoint": TOKEN_URL, "token_endpoint_auth_methods_supported": ["client_secret_basic"]}
    )
    with pytest.raises(AuthError, match="private_key_jwt"):
        make_auth(no_jwt, clock).token()
    rs_only = FakeEhr(
        discovery={"token_endpoint": TOKEN_URL, "token_endpoint_auth_signing_alg_values_supported": ["RS384"]}
    )
    with pytest.raises(AuthError, match="ES384"):
        make_auth(rs_only, clock, key=EC_KEY, alg="ES384").token()
    with pytest.raises(AuthError, match="no token_endpoint"):
        make_auth(FakeEhr(discovery={"issuer": "x"}), clock).token()
    configured = FakeEhr()
    auth = SmartBackendAuth(client_id="lobby-1", private_key=EC_KEY, algorithm="ES384", token_endpoint=TOKEN_URL,
                            clock=clock, transport=configured.transport())  # fmt: skip
    auth.token()
    assert configured.discoveries == 0  # a configured endpoint is used as is


def test_concurrent_requests_share_one_token_fetch() -> None:
    ehr, clock = FakeEhr(), Clock()
    gate = threading.Event()
    inner = ehr.handle

    def slow_token(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            gate.wait(5)
        return inner(request)

    auth = SmartBackendAuth(client_id="lobby-1", private_key=RSA_KEY, token_endpoint=TOKEN_URL, clock=clock,
                            transport=httpx.MockTransport(slow_token))  # fmt: skip
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(auth.token().value)) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert tokens == ["token-1"] * 4 and auth.tokens_fetched == 1


def test_invalidate_is_the_reauth_hook() -> None:
    ehr, clock = FakeEhr(), Clock()
    auth = make_auth(ehr, clock)
    first = auth.token()
    auth.invalidate(first)
    second = auth.token()
    auth.invalidate(first)  # a stale handle does not drop the newer token
    assert auth.token() is second and auth.tokens_fetched == 2


# -- keys ----------------------------------------------------------------------------------------------------
def _pem(key: Any, path: Path, mode: int = 0o600) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))  # fmt: skip
    os.chmod(path, mode)
    return path


def test_private_keys_are_checked(tmp_path: Path) -> None:
    assert isinstance(load_private_key(_pem(RSA_KEY, tmp_path / "rsa.pem"), "RS384"), rsa.RSAPrivateKey)
    assert isinstance(load_private_key(_pem(EC_KEY, tmp_path / "ec.pem"), "ES384"), ec.EllipticCurvePrivateKey)
    with pytest.raises(SigningKeyError, match="readable by others"):
        load_private_key(_pem(RSA_KEY, tmp_path / "open.pem", 0o644), "RS384")
    with pytest.raises(SigningKeyError, match="RS384 needs an RSA key"):
        load_private_key(tmp_path / "ec.pem", "RS384")
    with pytest.raises(SigningKeyError, match="P-384"):
        load_private_key(_pem(ec.generate_private_key(ec.SECP256R1()), tmp_path / "p256.pem"), "ES384")
    with pytest.raises(SigningKeyError, match="at least 2048"):
        weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        load_private_key(_pem(weak, tmp_path / "weak.pem"), "RS384")
    (tmp_path / "junk.pem").write_text("not a key")
    os.chmod(tmp_path / "junk.pem", 0o600)
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM"):
        load_private_key(tmp_path / "junk.pem", "RS384")
    with pytest.raises(SigningKeyError, match="cannot read"):
        load_private_key(tmp_path / "missing.pem", "RS384")


def test_bearer_token() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={"resourceType": "Bundle"})

    with FhirClient(BASE, auth=BearerToken("s3cret"), transport=httpx.MockTransport(handler)) as fhir:
        fhir.search("Patient", {})
    assert seen == ["Bearer s3cret"]
    with pytest.raises(AuthError):
        BearerToken("")


def test_tls_context_loads_a_client_certificate(tmp_path: Path) -> None:
    from tls_certs import make_pki

    pki = make_pki(tmp_path)
    context = tls_context(ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
    assert context.verify_mode.name == "CERT_REQUIRED" and context.check_hostname
