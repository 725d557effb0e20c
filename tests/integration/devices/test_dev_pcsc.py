"""The PC/SC badge reader against a real pcscd with the vsmartcard virtual reader and virtual badges.

One pcscd per machine: every test here shares one (module scope, behind a machine-wide file lock); the
test that stops it starts it again. Skips only when pcscd/vsmartcard are not installed and
KIOSK_REQUIRE_PCSCD is unset.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pcsc_env import Pcscd, VirtualBadge, machine_lock, missing

from devices import registry
from devices.health import HealthStatus
from devices.smartcard.badges import BadgeAllowList, BadgeDecision, decide
from devices.smartcard.base import CardEvent, CardEventKind, CardReader
from devices.smartcard.pcsc import PcscCardReader

# pyscard: when pcscd goes away, its dead monitor's CardRequest fails to release its context on garbage
# collection ("Exception ignored in PCSCCardRequest.__del__"): expected in the reader-vanishes test.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

STAFF = "04A1B2C3D4E5F6"
STRANGER = "DEADBEEF"
WAIT = 10.0  # seconds: pcscd polls cards every 400 ms, the watcher scans readers every 50 ms here


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    reason = missing()
    if reason:
        if os.environ.get("KIOSK_REQUIRE_PCSCD"):
            pytest.fail(f"KIOSK_REQUIRE_PCSCD is set but {reason}")
        pytest.skip(reason)
    with machine_lock():
        daemon = Pcscd(tmp_path_factory.mktemp("pcscd"))
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()


@pytest.fixture
def running(pcscd: Pcscd) -> Pcscd:
    pcscd.start()  # a test before may have stopped it
    return pcscd


class Events:
    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[CardEvent, str]] = queue.Queue()

    def __call__(self, event: CardEvent) -> None:
        self.queue.put((event, threading.current_thread().name))

    def next(self, *kinds: CardEventKind) -> CardEvent:
        """The next event of one of ``kinds`` (others in between are skipped)."""
        while True:
            try:
                event, _ = self.queue.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no {'/'.join(kinds)} event within {WAIT} s") from None
            if event.kind in kinds:
                return event

    def drain(self) -> list[CardEvent]:
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait()[0])
        return out


@pytest.fixture
def reader(running: Pcscd) -> Iterator[PcscCardReader]:
    device = registry.create("smartcard", "pcsc", {"readers": ["Kiosk Badge 00 00"], "poll_interval": 0.05})
    assert isinstance(device, PcscCardReader) and isinstance(device, CardReader)
    yield device
    device.stop()


def test_reader_list_and_health(running: Pcscd, reader: PcscCardReader) -> None:
    every = PcscCardReader(poll_interval=0.05)
    assert every.readers() == running.reader_names
    assert reader.readers() == ["Kiosk Badge 00 00"]  # the configured filter
    assert reader.health().status is HealthStatus.OK


def test_badge_in_and_out_unlocks_staff_mode_only_for_a_known_badge(running: Pcscd, reader: PcscCardReader) -> None:
    allow = BadgeAllowList.of([STAFF, "11223344"])
    events = Events()
    reader.start(events)
    added = events.next(CardEventKind.READER_ADDED)
    assert added.reader == "Kiosk Badge 00 00"

    badge = VirtualBadge(running, STAFF)
    try:
        inserted = events.next(CardEventKind.INSERTED)
        assert (inserted.reader, inserted.uid, inserted.atr) == (
            "Kiosk Badge 00 00", STAFF, "3B8F8001804F0CA000000306030001000000006A"
        )
        assert decide(inserted, allow) is BadgeDecision.UNLOCK
    finally:
        badge.remove()
    removed = events.next(CardEventKind.REMOVED)
    assert (removed.uid, decide(removed, allow)) == (STAFF, BadgeDecision.IGNORED)

    stranger = VirtualBadge(running, STRANGER)
    try:
        unknown = events.next(CardEventKind.INSERTED)
        assert unknown.uid == STRANGER
        assert decide(unknown, allow) is BadgeDecision.UNKNOWN_BADGE
    finally:
        stranger.remove()
    events.next(CardEventKind.REMOVED)


def test_events_arrive_on_the_readers_threads_not_the_callers(running: Pcscd, reader: PcscCardReader) -> None:
    events = Events()
    reader.start(events)
    badge = VirtualBadge(running, STAFF)
    try:
        while True:
            event, thread = events.queue.get(timeout=WAIT)
            if event.kind is CardEventKind.INSERTED:
                break
    finally:
        badge.remove()
    assert thread != threading.current_thread().name  # pyscard's monitor thread: the UI must marshal


def test_a_badge_already_on_the_reader_is_reported_at_start(running: Pcscd, reader: PcscCardReader) -> None:
    badge = VirtualBadge(running, STAFF)
    try:
        events = Events()
        reader.start(events)
        assert events.next(CardEventKind.INSERTED).uid == STAFF
    finally:
        badge.remove()
    assert events.next(CardEventKind.REMOVED).uid == STAFF


def test_reader_vanishes_and_comes_back(running: Pcscd, reader: PcscCardReader) -> None:
    events = Events()
    reader.start(events)
    events.next(CardEventKind.READER_ADDED)
    badge = VirtualBadge(running, STAFF)
    events.next(CardEventKind.INSERTED)

    running.stop()  # the reader (here: the whole PC/SC service) disappears with the badge on it
    badge.remove()
    assert events.next(CardEventKind.REMOVED, CardEventKind.READER_REMOVED).kind is CardEventKind.REMOVED
    gone = events.next(CardEventKind.READER_REMOVED)
    assert gone.reader == "Kiosk Badge 00 00"
    health = reader.health()
    assert (health.status, health.detail) == (HealthStatus.FAULT, "pcscd_unavailable")
    assert reader.readers() == []

    running.start()  # plugged in again
    assert events.next(CardEventKind.READER_ADDED).reader == "Kiosk Badge 00 00"
    assert reader.health().status is HealthStatus.OK
    badge = VirtualBadge(running, STRANGER)
    try:
        assert events.next(CardEventKind.INSERTED).uid == STRANGER  # card events work again
    finally:
        badge.remove()
    events.next(CardEventKind.REMOVED)
    assert reader.monitor_starts >= 2  # pyscard's monitor thread was replaced


def test_stop_ends_the_events(running: Pcscd, reader: PcscCardReader) -> None:
    events = Events()
    reader.start(events)
    events.next(CardEventKind.READER_ADDED)
    reader.stop()
    badge = VirtualBadge(running, STAFF)
    try:
        other = PcscCardReader(readers=["Kiosk Badge 00 00"], poll_interval=0.05)
        seen = Events()
        other.start(seen)  # a second watcher proves the card was seen by pcscd meanwhile
        assert seen.next(CardEventKind.INSERTED).uid == STAFF
        other.stop()
    finally:
        badge.remove()
    assert [e.kind for e in events.drain()] == []


def test_allow_list_file(tmp_path: Path) -> None:
    path = tmp_path / "badges.txt"
    path.write_text(f"# front desk\n{STAFF[:2]}:{STAFF[2:4]}:{STAFF[4:]}  # a staff member\n\n11-22-33-44\n")
    allow = BadgeAllowList.from_file(path)
    assert len(allow) == 2 and allow.allows(STAFF.lower()) and allow.allows("11223344")
