"""`kiosk doctor --config F` asks every configured device and the back-end, prints a table, and exits 1 when
something is wrong: here with a network printer stand-in, the Stripe stand-in and the real FHIR sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from printer_server import PrinterServer
from stripe_standin import SECRET_KEY, StripeStandIn

from devices.printer.status import Paper
from kiosk.cli import main


@pytest.fixture
def printer() -> Iterator[PrinterServer]:
    with PrinterServer() as server:
        yield server


@pytest.fixture
def stripe() -> Iterator[StripeStandIn]:
    standin = StripeStandIn()
    yield standin
    standin.stop()


@pytest.fixture
def config(tmp_path: Path, empty_sandbox_url: str, printer: PrinterServer, stripe: StripeStandIn) -> Path:
    key = tmp_path / "stripe.key"
    key.write_text(SECRET_KEY)
    key.chmod(0o600)
    path = tmp_path / "lobby.toml"
    path.write_text(f"""
[kiosk]
id = "doctor-test"
data_dir = "{tmp_path / 'data'}"

[backend]
base_url = "{empty_sandbox_url}"

[outbox]
key_file = "{tmp_path / 'keys' / 'outbox.key'}"

[devices.printer]
backend = "network"
host = "{printer.host}"
port = {printer.port}
timeout = 2.0

[devices.payment]
backend = "stripe"
reader_id = "{stripe.reader_id}"
api_key_file = "stripe.key"
api_base = "{stripe.api_base}"
http_timeout = 2.0

[devices.smartcard]
enabled = false
""")
    return path


def table(out: str) -> dict[str, tuple[str, str]]:
    lines = out.strip().splitlines()
    assert lines[0].split() == ["CHECK", "STATUS", "DETAIL"]
    rows = {}
    for line in lines[1:]:
        name, rest = line[: lines[0].index("STATUS")].strip(), line[lines[0].index("STATUS") :]
        status, _, detail = rest.partition(" ")
        rows[name] = (status, detail.strip())
    return rows


def test_everything_fine(config: Path, printer: PrinterServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--config", str(config)]) == 0
    rows = table(capsys.readouterr().out)
    assert rows["printer (network)"] == ("ok", f"{printer.host}:{printer.port} (TM-T20II)")
    assert rows["payment (stripe)"][0] == "ok"
    assert rows["smartcard (-)"][0] == "disabled"
    assert rows["back-end"][0] == "ok"
    assert set(rows) >= {"camera (simulated)", "barcode (simulated)"}
    assert printer.jobs == []  # asking is not printing


def test_out_of_paper_and_stripe_gone_fail_the_check(
    config: Path, printer: PrinterServer, stripe: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    printer.state.paper, printer.state.online = Paper.OUT, False
    stripe.stop()
    assert main(["doctor", "--config", str(config)]) == 1
    rows = table(capsys.readouterr().out)
    assert rows["printer (network)"] == ("fault", f"{printer.host}:{printer.port} (TM-T20II): out_of_paper")
    assert rows["payment (stripe)"] == ("fault", "service_unreachable")
    assert rows["back-end"][0] == "ok"


def test_a_device_that_cannot_load_is_one_faulty_row(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config.read_text().replace('api_key_file = "stripe.key"', 'api_key_file = "missing.key"')
    config.write_text(text)
    assert main(["doctor", "--config", str(config)]) == 1
    rows = table(capsys.readouterr().out)
    assert rows["payment (stripe)"][0] == "fault" and "cannot read api_key_file" in rows["payment (stripe)"][1]
    assert rows["printer (network)"][0] == "ok"  # the others are still asked
