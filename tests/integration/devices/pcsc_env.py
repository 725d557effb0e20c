"""pcscd with the vsmartcard virtual reader, and virtual staff badges, for tests (RECIPES §4).

- :class:`Pcscd` runs ``pcscd --foreground --config DIR`` with a reader file of its own (free TCP ports for
  vpcd, on 127.0.0.1 only for the cards we start). Only one pcscd can run per machine: a file lock
  serializes test processes, and a pcscd not started by us makes these tests fail loudly.
- :class:`VirtualBadge` is a card process (virtual_badge.py) connected to the reader: inserted while it runs.

:func:`missing` names what is not installed. Tests skip ONLY when that is the case and KIOSK_REQUIRE_PCSCD is
unset (CI sets it, and scripts/test exports it: there a missing pcscd fails).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

PCSCD = shutil.which("pcscd") or "/usr/sbin/pcscd"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VICC_PATH = Path("/usr/lib/python3/site-packages/virtualsmartcard")  # Debian's python3-virtualsmartcard
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
LOCK_FILE = Path(tempfile.gettempdir()) / "kiosk-tests-pcscd.lock"
READER = "Kiosk Badge"
BADGE_SCRIPT = Path(__file__).with_name("virtual_badge.py")


def missing() -> str:
    """What is missing to run pcscd with a virtual reader ("" when everything is there)."""
    if not Path(PCSCD).exists():
        return "pcscd is not installed (apt-get install pcscd)"
    if not VPCD_DRIVER.exists():
        return "the vsmartcard virtual reader is not installed (apt-get install vsmartcard-vpcd)"
    if not (VICC_PATH / "virtualsmartcard").is_dir():
        return "virtual smart cards are not installed (apt-get install python3-virtualsmartcard)"
    return ""


def free_port_pair() -> int:
    """A port p such that p and p + 1 are free on this machine (vpcd opens one per reader slot)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", port))
                b.bind(("0.0.0.0", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two consecutive free ports")


@contextlib.contextmanager
def machine_lock(timeout: float = 300.0) -> Iterator[None]:
    """One pcscd per machine: hold this while ours runs (other test processes wait here)."""
    with LOCK_FILE.open("a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another test process holds pcscd") from None
                time.sleep(0.1)  # waiting for another process, not for time to pass
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _readers() -> list[str]:
    from smartcard.System import readers

    try:
        return [str(r) for r in readers()]
    except Exception:
        return []


def card_present(reader: str) -> bool:
    """What pcscd currently says about a card on ``reader``."""
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCARD_STATE_PRESENT,
        SCARD_STATE_UNAWARE,
        SCardEstablishContext,
        SCardGetStatusChange,
        SCardReleaseContext,
    )

    result, context = SCardEstablishContext(SCARD_SCOPE_USER)
    if result != SCARD_S_SUCCESS:
        return False
    try:
        result, states = SCardGetStatusChange(context, 0, [(reader, SCARD_STATE_UNAWARE)])
        return result == SCARD_S_SUCCESS and bool(states[0][1] & SCARD_STATE_PRESENT)
    finally:
        SCardReleaseContext(context)


def wait_until(predicate: object, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Pcscd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port_pair()
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "kiosk-vpcd").write_text(
            f'FRIENDLYNAME "{READER}"\nDEVICENAME /dev/null:{self.port}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID {self.port}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def reader_names(self) -> list[str]:
        return [f"{READER} 00 00", f"{READER} 00 01"]

    def start(self) -> None:
        if self.running:
            return
        if _readers():
            raise RuntimeError("a pcscd not started by these tests is running: stop it first (one per machine)")
        self._log = (self.workdir / "pcscd.log").open("ab")
        self.process = subprocess.Popen(
            [PCSCD, "--foreground", "--config", str(self.conf_dir)],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        wait_until(lambda: set(self.reader_names) <= set(_readers()), what="pcscd and its virtual reader")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        gc.collect()  # pyscard contexts held by dead objects keep pcscd's threads busy (RECIPES §4)
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        wait_until(lambda: not _readers(), what="pcscd to go away")


class VirtualBadge:
    """A badge held on the reader (slot 00 00) until :meth:`remove`. Both wait until pcscd has seen the
    change (it polls every 400 ms): a badge swapped faster than that is not seen by pcscd at all."""

    def __init__(self, pcscd: Pcscd, uid: str, *, slot: int = 0) -> None:
        self.reader = pcscd.reader_names[slot]
        self.pcscd = pcscd
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(VICC_PATH), os.environ.get("PYTHONPATH", "")]))
        self.uid = uid
        self.process = subprocess.Popen(
            [sys.executable, str(BADGE_SCRIPT), str(pcscd.port + slot), uid],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != b"ready":
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"virtual badge did not start: {err.decode(errors='replace')[-500:]}")
        wait_until(lambda: card_present(self.reader), what="pcscd to see the badge")

    def remove(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        if self.pcscd.running:
            wait_until(lambda: not card_present(self.reader), what="pcscd to see the badge go")
