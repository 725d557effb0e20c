"""SMART Backend Services end to end: the sandbox's token endpoint (auth.mjs) checks the kiosk's signed
assertion against the registered JWKS with Node's crypto, and the FHIR routes refuse requests without a
valid token. Also mutual TLS through a TLS-terminating proxy that requires a client certificate."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "portal_client"))
from sync_fakes import FakeClock
from tls_certs import make_pki
from tls_proxy import TlsProxy  # tests/integration

from kiosk.runtime.build import build_runtime
from kiosk.settings import DEFAULT_CONFIG, load_settings
from portal_client.auth import ASSERTION_TYPE, SmartBackendAuth, jwks, sign_jwt, tls_context
from portal_client.client import FhirClient
from portal_client.errors import AuthError, BackendUnavailable
from portal_client.outbox import open_outbox
from portal_client.sandbox import Sandbox
from portal_client.sandbox.admin import SandboxAdmin
from portal_client.sandbox.crowd import crowd, seed_crowd
from portal_client.sandbox.seed import TEST_NOW, seed
from portal_client.sync import SyncWorker

pytestmark = pytest.mark.sandbox

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_KID = jwks(RSA_KEY, "RS384")["keys"][0]["kid"]


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def auth_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own with two registered clients (the shared one stays open for other tests)."""
    from portal_client.sandbox import node_modules_present

    if not node_modules_present():
        pytest.skip("FHIR sandbox not installed: run scripts/setup")
    folder = tmp_path_factory.mktemp("auth")
    config = {
        "clients": [
            {"client_id": "lobby-1", "jwks": {"keys": jwks(RSA_KEY, "RS384")["keys"] + jwks(EC_KEY, "ES384")["keys"]}},
            {"client_id": "reader", "jwks": jwks(EC_KEY, "ES384", kid="r1"), "scope": "system/Patient.rs"},
        ],
        "token_lifetime_s": 300,
    }
    (folder / "auth.json").write_text(json.dumps(config))
    with Sandbox(auth_config=folder / "auth.json") as sandbox:
        yield sandbox


@pytest.fixture
def admin(auth_sandbox: Sandbox) -> SandboxAdmin:
    auth_sandbox.reset()
    return SandboxAdmin(auth_sandbox.root_url)


def smart(sandbox: Sandbox, key: Any = RSA_KEY, alg: str = "RS384", **kw: Any) -> SmartBackendAuth:
    return SmartBackendAuth(client_id=kw.pop("client_id", "lobby-1"), private_key=key, algorithm=alg,  # type: ignore[arg-type]
                            fhir_base_url=sandbox.base_url, **kw)  # fmt: skip


@pytest.mark.parametrize(("key", "alg"), [(RSA_KEY, "RS384"), (EC_KEY, "ES384")])
def test_good_key_gets_a_token_and_the_outbox_delivers(
    auth_sandbox: Sandbox, admin: SandboxAdmin, tmp_path: Path, key: Any, alg: str
) -> None:
    auth = smart(auth_sandbox, key, alg)
    info = seed(auth_sandbox.base_url, now=TEST_NOW, auth=auth)
    assert admin.auth_stats()["issued"] == 1
    (p,) = crowd(1, info.now)
    seed_crowd(auth_sandbox.base_url, [p], auth=auth)
    clock = FakeClock()
    outbox = open_outbox(tmp_path / "data", tmp_path / "keys" / "outbox.key", clock=clock)
    with FhirClient(auth_sandbox.base_url, auth=auth) as client:
        appointment = client.read("Appointment", p.appointment_id)
        outbox.put("checkin", "c" * 32, {"format": 1, "patient_changes": {}, "resolved": {}, "bundle": {
            "resourceType": "Bundle", "type": "transaction", "entry": [{
                "request": {"method": "PUT", "url": f"Appointment/{p.appointment_id}",
                            "ifMatch": f'W/"{appointment["meta"]["versionId"]}"'},
                "resource": {**appointment, "status": "arrived"}}]}})  # fmt: skip
        worker = SyncWorker(outbox, client, clock=clock, sleep=clock.sleep, reauth=auth.invalidate)
        assert worker.drain_once().sent == 1
        assert client.read("Appointment", p.appointment_id)["status"] == "arrived"
    assert auth.tokens_fetched == 1 and admin.auth_stats()["refused_requests"] == 0
    auth.close()


def test_no_token_is_refused(auth_sandbox: Sandbox, admin: SandboxAdmin) -> None:
    with FhirClient(auth_sandbox.base_url) as client, pytest.raises(AuthError) as err:
        client.search("Patient", {})
    assert err.value.status == 401
    smart_config = httpx.get(f"{auth_sandbox.base_url}/.well-known/smart-configuration").json()
    assert smart_config["token_endpoint"] == f"{auth_sandbox.root_url}/auth/token"
    assert "private_key_jwt" in smart_config["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize(
    ("key", "kw"),
    [
        (OTHER_KEY, {"key_id": RSA_KID}),  # a registered kid, signed with another key
        (OTHER_KEY, {}),  # an unregistered key
        (RSA_KEY, {"client_id": "stranger"}),
        (RSA_KEY, {"client_id": "reader", "key_id": "r1"}),  # reader's kid is an EC key: alg/key mismatch
    ],
    ids=["wrong-key", "unknown-key", "unknown-client", "wrong-key-type"],
)
def test_wrong_credentials_are_an_auth_error_and_the_row_waits(
    auth_sandbox: Sandbox, admin: SandboxAdmin, tmp_path: Path, key: Any, kw: dict[str, Any]
) -> None:
    auth = smart(auth_sandbox, key, **kw)
    clock = FakeClock()
    outbox = open_outbox(tmp_path / "data", tmp_path / "keys" / "outbox.key", clock=clock)
    device = {"request": {"method": "POST", "url": "Device", "ifNoneExist": "identifier=urn:x|1"},
              "resource": {"resourceType": "Device", "identifier": [{"system": "urn:x", "value": "1"}]}}  # fmt: skip
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [device]}
    outbox.put("checkin", "d" * 32, {"format": 1, "patient_changes": {}, "resolved": {}, "bundle": bundle})
    with FhirClient(auth_sandbox.base_url, auth=auth) as client:
        with pytest.raises(AuthError, match=r"token request: HTTP 401 \(invalid_client\)"):
            client.search("Patient", {})
        worker = SyncWorker(outbox, client, clock=clock, sleep=clock.sleep, reauth=auth.invalidate)
        report = worker.drain_once()
    assert (report.sent, report.dead, report.retried) == (0, 0, 1)  # kept for later, not dead
    assert worker.state.last_error == "backend_auth" and worker.state.online
    assert admin.auth_stats()["issued"] == 0 and admin.auth_stats()["refused_assertions"] >= 3
    auth.close()


def test_expired_token_is_renewed_before_use(auth_sandbox: Sandbox, admin: SandboxAdmin) -> None:
    """The kiosk's own clock says the token is about to expire: a new one is fetched, nothing is refused."""
    import time

    clock = Clock(time.time())
    auth = smart(auth_sandbox, clock=clock, refresh_margin=60)
    with FhirClient(auth_sandbox.base_url, auth=auth) as client:
        client.search("Patient", {})
        clock.t += 250  # 50 s before the 300 s token expires
        client.search("Patient", {})
    assert auth.tokens_fetched == 2
    stats = admin.auth_stats()
    assert stats["issued"] == 2 and stats["refused_requests"] == 0
    auth.close()


def test_token_the_server_expired_is_replaced_on_the_401(auth_sandbox: Sandbox, admin: SandboxAdmin) -> None:
    auth = smart(auth_sandbox)
    with FhirClient(auth_sandbox.base_url, auth=auth) as client:
        client.search("Patient", {})
        assert admin.revoke_tokens() == 1  # the server forgets it (expiry, restart, revocation)
        client.search("Patient", {})  # 401, new token, the same request again: succeeds
    stats = admin.auth_stats()
    assert stats["issued"] == 2 and stats["refused_requests"] == 1 and auth.tokens_fetched == 2
    auth.close()


def _post_assertion(sandbox: Sandbox, jwt: str) -> httpx.Response:
    return httpx.post(f"{sandbox.root_url}/auth/token", data={
        "grant_type": "client_credentials", "scope": "system/Patient.rs",
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": jwt})  # fmt: skip


def test_the_token_endpoint_checks_the_assertion(auth_sandbox: Sandbox, admin: SandboxAdmin) -> None:
    import time

    now = int(time.time())
    url = f"{auth_sandbox.root_url}/auth/token"
    claims = {"iss": "lobby-1", "sub": "lobby-1", "aud": url, "exp": now + 120, "jti": "j-1"}
    good = sign_jwt(claims, RSA_KEY, "RS384", RSA_KID)
    assert _post_assertion(auth_sandbox, good).status_code == 200
    replay = _post_assertion(auth_sandbox, good)
    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")  # jti used twice
    for bad in (
        {**claims, "jti": "j-2", "aud": "https://elsewhere.test/token"},
        {**claims, "jti": "j-3", "exp": now - 120},
        {**claims, "jti": "j-4", "exp": now + 3600},  # more than five minutes ahead
        {**claims, "jti": "j-5", "sub": "someone-else"},
    ):
        answer = _post_assertion(auth_sandbox, sign_jwt(bad, RSA_KEY, "RS384", RSA_KID))
        assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client"), bad
    head, body, _sig = good.split(".")
    tampered = f"{head}.{body}.{_sig[:-4]}AAAA"
    assert _post_assertion(auth_sandbox, tampered).status_code == 401


def test_scope_is_limited_to_what_the_client_may_have(auth_sandbox: Sandbox, admin: SandboxAdmin) -> None:
    auth = smart(auth_sandbox, EC_KEY, "ES384", client_id="reader", key_id="r1",
                 scope="system/Patient.rs system/Encounter.crs")  # fmt: skip
    assert auth.token().scope == "system/Patient.rs"
    auth.close()


def test_the_runtime_wires_smart_auth_from_the_settings(
    auth_sandbox: Sandbox, admin: SandboxAdmin, tmp_path: Path
) -> None:
    pem = tmp_path / "smart.pem"
    pem.write_bytes(EC_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))  # fmt: skip
    pem.chmod(0o600)
    settings = load_settings(DEFAULT_CONFIG).with_overrides(
        backend={"base_url": auth_sandbox.base_url, "auth": "smart",
                 "smart": {"client_id": "lobby-1", "private_key_file": str(pem), "algorithm": "ES384"}},
        kiosk={"data_dir": str(tmp_path / "data")},
        outbox={"key_file": str(tmp_path / "keys" / "outbox.key")},
        sync={"enabled": False},
    )  # fmt: skip
    runtime = build_runtime(settings)
    try:
        assert runtime.backend.sync._reauth == runtime.backend.auth.invalidate
        assert runtime.heartbeat.beat()  # the Device PUT went through with a token
        assert runtime.directory.get_patient("nobody") is None
    finally:
        runtime.stop()
    assert admin.auth_stats()["issued"] == 1


# -- mutual TLS -----------------------------------------------------------------------------------------------
@pytest.fixture
def mtls(fhir_sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    pki = make_pki(tmp_path / "pki")
    port = int(fhir_sandbox.base_url.split(":")[2].split("/")[0])
    proxy = TlsProxy(port, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca)
    yield f"https://127.0.0.1:{proxy.port}/fhir/R4", pki
    proxy.close()


def test_mutual_tls_with_a_client_certificate(mtls: tuple[str, Any], empty_sandbox_url: str) -> None:
    url, pki = mtls
    good = tls_context(ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
    with FhirClient(url, verify=good) as client:
        assert client.search("Patient", {"_count": "1"})["resourceType"] == "Bundle"
    for context in (
        tls_context(ca_file=pki.ca),  # no client certificate
        tls_context(ca_file=pki.ca, cert_file=pki.other_client_cert, key_file=pki.other_client_key),
        tls_context(cert_file=pki.client_cert, key_file=pki.client_key),  # server not trusted (system CAs)
    ):
        with FhirClient(url, verify=context) as client, pytest.raises(BackendUnavailable):
            client.search("Patient", {"_count": "1"})
