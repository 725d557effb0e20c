"""Authentication to the practice's FHIR server, as ``httpx.Auth`` objects (DESIGN §5).

- ``BearerToken``: a static token (simple set-ups, a reverse proxy that checks it).
- ``SmartBackendAuth``: SMART App Launch "Backend Services" — the kiosk proves who it is with a short-lived
  JWT (``private_key_jwt``) signed RS384 or ES384 with its own private key, and exchanges it at the token
  endpoint (``grant_type=client_credentials``) for an access token. The token endpoint comes from
  ``<fhir base>/.well-known/smart-configuration`` unless configured. The token is cached until shortly
  before it expires; a 401 from the FHIR server drops it and retries the request once with a fresh one;
  ``invalidate()`` is the sync worker's re-auth hook.
- ``tls_context``: server verification (system CAs or a practice CA file) and an optional client
  certificate (mutual TLS), as one ``ssl.SSLContext`` (httpx 0.28 deprecates ``cert=`` and ``verify=<path>``).

Errors use the package's tree: a token endpoint that cannot be reached (or answers 5xx) is
``BackendUnavailable`` (retry later); one that refuses the kiosk (``invalid_client``, a bad signature, an
unknown key) is ``AuthError``. Messages never hold the assertion, the token or the key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import ssl
import stat
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .errors import AuthError, BackendTimeout, BackendUnavailable

log = logging.getLogger(__name__)

Algorithm = Literal["RS384", "ES384"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS384", "ES384")
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# What the kiosk reads and writes (SMART v2 scopes). A practice may narrow or widen it in the config.
DEFAULT_SCOPE = " ".join(
    [
        "system/Patient.rsu",
        "system/Appointment.rsu",
        "system/Encounter.crs",
        "system/Coverage.crs",
        "system/DocumentReference.crs",
        "system/Questionnaire.rs",
        "system/QuestionnaireResponse.crs",
        "system/Consent.crs",
        "system/PaymentReconciliation.crs",
        "system/Task.crs",
        "system/Provenance.crs",
        "system/Device.crus",
        "system/Practitioner.rs",
        "system/Location.rs",
        "system/Organization.rs",
    ]
)


class SigningKeyError(AuthError):
    """The kiosk's private key cannot be used (missing, unreadable, wrong type, too widely readable)."""

    key = "backend_auth_key"


# -- keys ------------------------------------------------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, length: int | None = None) -> bytes:
    return value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big")


def load_private_key(path: str | os.PathLike[str], algorithm: Algorithm) -> PrivateKey:
    """An unencrypted PEM private key matching ``algorithm`` (RSA ≥ 2048 bits for RS384, EC P-384 for ES384).

    Like the outbox key, a file readable by group or others is refused."""
    file = Path(path)
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
        data = file.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"private key {file}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    if mode & 0o077:
        raise SigningKeyError(f"private key {file} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"private key {file}: not an unencrypted PEM private key") from None
    check_key(key, algorithm, where=f"private key {file}")
    assert isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey))  # check_key made sure
    return key


def check_key(key: object, algorithm: Algorithm, *, where: str = "private key") -> None:
    if algorithm == "RS384":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SigningKeyError(f"{where}: RS384 needs an RSA key")
        if key.key_size < 2048:
            raise SigningKeyError(f"{where}: RSA keys need at least 2048 bits (this one has {key.key_size})")
    elif algorithm == "ES384":
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
            raise SigningKeyError(f"{where}: ES384 needs an EC key on curve P-384 (secp384r1)")
    else:
        raise SigningKeyError(f"{where}: algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, base64url."""
    required = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: PrivateKey, algorithm: Algorithm, kid: str | None = None) -> dict[str, str]:
    """The public half as a JWK (what the practice registers for this kiosk). ``kid`` defaults to the
    RFC 7638 thumbprint."""
    public = key.public_key()
    jwk: dict[str, str]
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        jwk = {"kty": "RSA", "e": _b64url(_int_bytes(numbers.e)), "n": _b64url(_int_bytes(numbers.n))}
    else:
        point = public.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-384",
            "x": _b64url(_int_bytes(point.x, 48)),
            "y": _b64url(_int_bytes(point.y, 48)),
        }
    jwk["kid"] = kid or jwk_thumbprint(jwk)
    jwk["alg"] = algorithm
    jwk["use"] = "sig"
    return jwk


def jwks(key: PrivateKey, algorithm: Algorithm, kid: str | None = None) -> dict[str, list[dict[str, str]]]:
    """The JWK Set to register at the practice's authorization server (``kiosk jwks``)."""
    return {"keys": [public_jwk(key, algorithm, kid)]}


def sign_jwt(claims: dict[str, Any], key: PrivateKey, algorithm: Algorithm, kid: str) -> str:
    header = {"alg": algorithm, "kid": kid, "typ": "JWT"}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    ).encode("ascii")
    if algorithm == "RS384":
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA384())
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
        signature = _int_bytes(r, 48) + _int_bytes(s, 48)  # JOSE wants raw r || s, not DER
    return signing_input.decode("ascii") + "." + _b64url(signature)


# -- TLS -------------------------------------------------------------------------------------------------
def tls_context(
    *,
    ca_file: str | os.PathLike[str] | None = None,
    cert_file: str | os.PathLike[str] | None = None,
    key_file: str | os.PathLike[str] | None = None,
) -> ssl.SSLContext:
    """Verification against the system CAs (or ``ca_file``), plus a client certificate for mutual TLS."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


# -- static bearer ---------------------------------------------------------------------------------------
class BearerToken(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request. Nothing to refresh."""

    def __init__(self, token: str) -> None:
        if not token:
            raise AuthError("the bearer token is empty")
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def invalidate(self) -> None:
        """A static token cannot be renewed: staff must replace it."""


# -- SMART Backend Services ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessToken:
    value: str
    issued_at: float  # epoch seconds (the auth's clock)
    expires_at: float
    scope: str = ""

    def fresh(self, now: float, margin: float) -> bool:
        """Usable for a while yet: not within ``margin`` of expiry (at most half its life, for short tokens)."""
        return now < self.expires_at - min(margin, (self.expires_at - self.issued_at) / 2)

    def __repr__(self) -> str:  # never print the token itself
        return f"AccessToken(expires_at={self.expires_at:.0f}, scope={self.scope!r})"


def _wall() -> float:
    return time.time()


class SmartBackendAuth(httpx.Auth):
    """SMART Backend Services client (``client_credentials`` + ``private_key_jwt``). Thread-safe.

    ``clock`` returns epoch seconds and decides when the cached token is renewed (injectable: tests move time
    instead of waiting); the assertion's own ``iat``/``exp`` always come from ``wall_clock`` (the server
    checks them against real time). ``transport`` and ``verify`` are for the token endpoint's own
    ``httpx.Client`` (discovery and token requests).
    """

    def __init__(
        self,
        *,
        client_id: str,
        private_key: PrivateKey,
        algorithm: Algorithm = "RS384",
        key_id: str | None = None,
        scope: str = DEFAULT_SCOPE,
        token_endpoint: str | None = None,
        fhir_base_url: str | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        refresh_margin: float = 60.0,
        assertion_lifetime: float = 240.0,
        default_expires_in: float = 300.0,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not client_id:
            raise AuthError("SMART backend auth needs a client_id")
        if not token_endpoint and not fhir_base_url:
            raise AuthError("SMART backend auth needs a token endpoint or the FHIR base URL to discover it")
        check_key(private_key, algorithm)
        self.client_id = client_id
        self.algorithm: Algorithm = algorithm
        self.key_id = key_id or public_jwk(private_key, algorithm)["kid"]
        self.scope = scope
        self._key = private_key
        self._token_endpoint = token_endpoint
        self._fhir_base = fhir_base_url.rstrip("/") if fhir_base_url else None
        self._clock = clock or _wall
        self._wall_clock = wall_clock or _wall
        self._refresh_margin = refresh_margin
        self._assertion_lifetime = min(assertion_lifetime, 300.0)  # SMART: at most five minutes ahead
        self._default_expires_in = default_expires_in
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport, verify=verify)
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.tokens_fetched = 0  # for the status screen and tests

    def close(self) -> None:
        self._http.close()

    # -- httpx.Auth ------------------------------------------------------------------------------------
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            # The server no longer takes this token (revoked, expired early, server restarted): once more
            # with a fresh one. A second 401 goes back to the caller (AuthError).
            log.info("FHIR server refused the access token (HTTP 401): fetching a new one")
            self.invalidate(token)
            request.headers["Authorization"] = f"Bearer {self.token().value}"
            yield request

    # -- tokens ----------------------------------------------------------------------------------------
    def invalidate(self, token: AccessToken | None = None) -> None:
        """Forget the cached token (only ``token``, if given and still current)."""
        with self._lock:
            if token is None or self._token is token:
                self._token = None

    def token(self) -> AccessToken:
        """The cached access token, or a new one when none is cached or it expires within the margin."""
        with self._lock:
            now = self._clock()
            current = self._token
            if current is not None and current.fresh(now, self._refresh_margin):
                return current
            self._token = self._fetch(now)
            return self._token

    @property
    def token_endpoint(self) -> str:
        if self._token_endpoint is None:
            self._token_endpoint = self._discover()
        return self._token_endpoint

    def _discover(self) -> str:
        url = f"{self._fhir_base}/.well-known/smart-configuration"
        response = self._call("GET", url, what="SMART discovery", headers={"Accept": "application/json"})
        try:
            config = response.json()
            endpoint = str(config["token_endpoint"])
        except (ValueError, KeyError, TypeError):
            raise AuthError("SMART discovery: the server's smart-configuration names no token_endpoint") from None
        methods = config.get("token_endpoint_auth_methods_supported")
        if isinstance(methods, list) and "private_key_jwt" not in methods:
            raise AuthError("SMART discovery: the server does not accept private_key_jwt client authentication")
        algs = config.get("token_endpoint_auth_signing_alg_values_supported")
        if isinstance(algs, list) and algs and self.algorithm not in algs:
            raise AuthError(f"SMART discovery: the server does not accept {self.algorithm} signatures")
        log.info("SMART discovery: token endpoint found")
        return endpoint

    def assertion(self, now: float) -> str:
        """A fresh client assertion (a signed JWT) for the token endpoint."""
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_endpoint,
            "exp": int(now + self._assertion_lifetime),
            "iat": int(now),
            "jti": secrets.token_hex(16),
        }
        return sign_jwt(claims, self._key, self.algorithm, self.key_id)

    def _fetch(self, now: float) -> AccessToken:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(self._wall_clock()),
        }
        response = self._call("POST", self.token_endpoint, what="token request", data=form,
                              headers={"Accept": "application/json"})  # fmt: skip
        try:
            body = response.json()
            value = str(body["access_token"])
            token_type = str(body.get("token_type", "bearer"))
            expires_in = float(body.get("expires_in") or self._default_expires_in)
        except (ValueError, KeyError, TypeError):
            raise AuthError("token endpoint answered without an access_token") from None
        if token_type.lower() != "bearer" or not value:
            raise AuthError(f"token endpoint gave a {token_type!r} token; the kiosk needs a bearer token")
        self.tokens_fetched += 1
        log.info("access token received (expires in %.0f s)", expires_in)
        return AccessToken(value, now, now + expires_in, str(body.get("scope") or ""))

    def _call(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"{what}: no answer in time ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"{what}: cannot reach the server ({type(exc).__name__})") from None
        status = response.status_code
        if status < 400:
            return response
        if status in (408, 429) or status >= 500:
            raise BackendUnavailable(f"{what}: HTTP {status}", status=status)
        error = ""
        try:
            body = response.json()
            error = str(body.get("error") or "") if isinstance(body, dict) else ""
        except ValueError:
            pass
        # OAuth error codes (invalid_client, invalid_grant, invalid_scope...) are safe to log; descriptions
        # are not shown (a server may echo what it received).
        raise AuthError(f"{what}: HTTP {status}{f' ({error})' if error else ''}", status=status)
