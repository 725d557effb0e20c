"""The simulated card reader: badge insert/remove and reader unplug events, on the reader's thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from devices import registry
from devices.errors import DeviceOperationError
from devices.health import HealthStatus
from devices.smartcard.base import CardEvent, CardEventKind
from devices.smartcard.simulated import DEFAULT_READER, MIFARE_1K_ATR, SimulatedCardReader

K = CardEventKind


class Events:
    def __init__(self) -> None:
        self.items: list[CardEvent] = []
        self.threads: set[str] = set()
        self.changed = threading.Condition()

    def __call__(self, event: CardEvent) -> None:
        with self.changed:
            self.items.append(event)
            self.threads.add(threading.current_thread().name)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[CardEvent]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.items) >= count, timeout), self.items
            return list(self.items)

    def kinds(self) -> list[tuple[CardEventKind, str, str]]:
        return [(e.kind, e.reader, e.uid) for e in self.items]


@pytest.fixture
def reader() -> Iterator[SimulatedCardReader]:
    r = registry.create("smartcard", "simulated", {})
    assert isinstance(r, SimulatedCardReader)
    yield r
    r.stop()


def test_start_reports_readers_then_insert_and_remove(reader: SimulatedCardReader) -> None:
    events = Events()
    reader.start(events)
    events.wait_for(1)
    reader.insert("04 a1:b2 c3")
    reader.remove()
    events.wait_for(3)
    assert events.kinds() == [
        (K.READER_ADDED, DEFAULT_READER, ""),
        (K.INSERTED, DEFAULT_READER, "04A1B2C3"),
        (K.REMOVED, DEFAULT_READER, "04A1B2C3"),
    ]
    assert events.items[1].atr == MIFARE_1K_ATR
    assert events.threads == {"smartcard-simulated"}
    assert "04A1B2C3" not in repr(events.items[1])  # badge ids stay out of logs


def test_a_card_present_before_start_is_reported_at_start() -> None:
    r = SimulatedCardReader.from_options({"readers": ["Reader A", "Reader B"]})
    r.insert("DEADBEEF", reader="Reader B")
    events = Events()
    r.start(events)
    try:
        events.wait_for(3)
        assert events.kinds() == [
            (K.READER_ADDED, "Reader A", ""),
            (K.READER_ADDED, "Reader B", ""),
            (K.INSERTED, "Reader B", "DEADBEEF"),
        ]
        assert r.readers() == ["Reader A", "Reader B"]
    finally:
        r.stop()


def test_unplugging_the_reader_removes_the_card_and_faults_health(reader: SimulatedCardReader) -> None:
    events = Events()
    reader.start(events)
    reader.insert("0102")
    reader.unplug_reader()
    events.wait_for(4)
    assert [e.kind for e in events.items] == [K.READER_ADDED, K.INSERTED, K.REMOVED, K.READER_REMOVED]
    health = reader.health()
    assert health.status is HealthStatus.FAULT and health.detail == "no_reader"
    assert reader.readers() == []
    with pytest.raises(DeviceOperationError, match="no card reader"):
        reader.insert("0102")
    reader.plug_reader()
    events.wait_for(5)
    assert events.items[-1].kind is K.READER_ADDED
    assert reader.health().status is HealthStatus.OK


def test_inserting_a_second_card_replaces_the_first(reader: SimulatedCardReader) -> None:
    events = Events()
    reader.start(events)
    reader.insert("AA")
    reader.insert("BB")
    events.wait_for(4)
    assert events.kinds()[1:] == [
        (K.INSERTED, DEFAULT_READER, "AA"),
        (K.REMOVED, DEFAULT_READER, "AA"),
        (K.INSERTED, DEFAULT_READER, "BB"),
    ]


def test_bad_uid_and_unknown_reader_are_refused(reader: SimulatedCardReader) -> None:
    with pytest.raises(ValueError, match="hexadecimal"):
        reader.insert("not-hex")
    with pytest.raises(DeviceOperationError, match="no such card reader"):
        reader.insert("AA", reader="Elsewhere")


def test_a_failing_callback_does_not_stop_the_monitor(reader: SimulatedCardReader) -> None:
    events = Events()

    def callback(event: CardEvent) -> None:
        if event.kind is K.READER_ADDED:
            raise RuntimeError("consumer bug")
        events(event)

    reader.start(callback)
    reader.insert("AB")
    events.wait_for(1)
    assert events.items[0].kind is K.INSERTED
    assert reader.wait_idle(10)
    assert reader.health().last_error == "RuntimeError"
