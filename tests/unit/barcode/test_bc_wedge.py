"""Keyboard-wedge detection as a pure state machine fed (character, timestamp): no clock, no sleeps."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from devices import registry
from devices.barcode.base import Barcode
from devices.barcode.samples import aamva_payload, wedge_mangled
from devices.barcode.wedge import WedgeBarcodeSource, WedgeDetector, WedgeResult, format_of, special_key_char
from kiosk.flow import aamva


def type_text(detector: WedgeDetector, text: str, start: float, gap: float) -> list[WedgeResult]:
    return [detector.feed(ch, start + i * gap) for i, ch in enumerate(text)]


def test_a_scanner_burst_is_swallowed_and_completed_by_the_pause() -> None:
    d = WedgeDetector(max_gap=0.05)
    results = type_text(d, "CKI1.abc.def\n", start=10.0, gap=0.004)
    assert all(r.swallow and r.release == "" and r.scan is None for r in results)
    assert d.pending and d.deadline is not None
    assert d.poll(d.deadline - 1e-6) == WedgeResult()  # not yet
    done = d.poll(d.deadline + 0.001)
    assert done.scan == "CKI1.abc.def" and not d.pending  # the trailing Enter is dropped


def test_a_person_typing_gets_every_key_back_in_order() -> None:
    d = WedgeDetector(max_gap=0.05)
    released = ""
    for i, ch in enumerate("maria"):
        r = d.feed(ch, 1.0 + i * 0.15)
        assert r.swallow  # held back for a moment ...
        released += r.release
    released += d.poll(5.0).release  # ... and handed back
    assert released == "maria"


def test_a_short_fast_pair_is_released_not_scanned() -> None:
    d = WedgeDetector(max_gap=0.05, min_length=4)
    type_text(d, "ab", start=0.0, gap=0.01)
    assert d.poll(1.0) == WedgeResult(release="ab")


def test_typing_then_scanning_then_typing() -> None:
    d = WedgeDetector(max_gap=0.05)
    out: list[WedgeResult] = []
    out += type_text(d, "hi", 0.0, 0.2)
    out += type_text(d, "PAT-000123", 1.0, 0.003)
    out += type_text(d, "yo", 2.0, 0.2)
    out.append(d.poll(9.0))
    assert "".join(r.release for r in out) == "hiyo"
    assert [r.scan for r in out if r.scan is not None] == ["PAT-000123"]


def test_prefix_and_suffix() -> None:
    d = WedgeDetector(prefix="\x02", suffix="\x03", max_gap=0.05)
    results = type_text(d, "\x02AB\x03", 0.0, 0.01)
    assert results[-1].scan == "AB" and not d.pending  # the suffix completes at once; short scans allowed
    # A suffix that never comes: the incomplete scan is thrown away, never delivered or typed.
    type_text(d, "\x02HALF", 1.0, 0.01)
    assert d.poll(2.0) == WedgeResult() and d.discarded == 1


def test_overlong_bursts_are_discarded() -> None:
    d = WedgeDetector(max_gap=0.05, min_length=4, max_length=16)
    type_text(d, "X" * 40, 0.0, 0.001)
    assert d.poll(1.0).scan is None and d.discarded == 1


def test_an_aamva_card_typed_by_a_wedge_parses() -> None:
    payload = aamva_payload("ANA", "GARCIA", date(1990, 2, 28))
    typed = wedge_mangled(payload, "lf").replace("\x1e", "")  # Enter for every separator, RS lost
    d = WedgeDetector()
    results = type_text(d, typed, 0.0, 0.002)
    scan = d.poll(1.0).scan
    assert all(r.swallow for r in results) and scan is not None
    assert aamva.parse(scan).family == "GARCIA"
    assert format_of(scan) == ("PDF417", scan)


def test_aim_identifiers_name_the_format() -> None:
    assert format_of("]Q1CKI1.a.b") == ("QRCode", "CKI1.a.b")
    assert format_of("]C0PAT-1") == ("Code128", "PAT-1")
    assert format_of("]L2@\nANSI 636000") == ("PDF417", "@\nANSI 636000")
    assert format_of("hello") == ("unknown", "hello")


def test_special_keys_from_kivy_key_events() -> None:
    assert special_key_char(13) == "\n" and special_key_char(271) == "\n" and special_key_char(9) == "\t"
    assert special_key_char(ord("]"), ["ctrl"]) == "\x1d"  # GS
    assert special_key_char(ord("^"), ["ctrl"]) == "\x1e"  # RS
    assert special_key_char(ord("m"), ["ctrl"]) == "\r"
    assert special_key_char(ord("a")) is None  # printable: comes with the text event
    assert special_key_char(ord("1"), ["ctrl"]) is None


def test_the_source_delivers_barcode_events_and_swallows_keys() -> None:
    source = registry.create("barcode", "wedge", {"max_gap": 0.03, "min_length": 5})
    assert isinstance(source, WedgeBarcodeSource)
    got: list[Barcode] = []
    assert source.feed("x", 0.0) == WedgeResult(release="x")  # not started: keys pass straight through
    source.start(got.append)
    results = [source.feed(ch, 1.0 + i * 0.002) for i, ch in enumerate("]Q1CKI1.abc.def")]
    assert all(r.swallow for r in results)
    end = source.poll(2.0)
    assert end.scan is None  # handed to the callback, not back to the UI
    assert got == [Barcode(format="QRCode", text="CKI1.abc.def", source="wedge")]
    assert source.health().status == "ok"
    source.stop()


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="abcXYZ019.-", min_size=1, max_size=1), st.sampled_from([0.001, 0.02, 0.2, 1.0])),
        max_size=80,
    )
)
def test_nothing_typed_is_lost_reordered_or_doubled(keys: list[tuple[str, float]]) -> None:
    """Whatever the timing: releases and scans, in order, give back exactly the keys typed."""
    d = WedgeDetector(max_gap=0.05, min_length=4)
    now, out = 0.0, ""
    for ch, gap in keys:
        now += gap
        r = d.feed(ch, now)
        assert r.swallow
        out += r.release + (r.scan or "")
    end = d.poll(now + 1.0)
    out += end.release + (end.scan or "")
    assert out == "".join(ch for ch, _ in keys)
    assert not d.pending
