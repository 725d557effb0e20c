"""[devices.speech] → the runtime's Devices.speech (kiosk and tablet), health rows, config check, doctor."""

from __future__ import annotations

from typing import Any

from devices.health import HealthStatus
from devices.speech.simulated import SimulatedSpeaker
from kiosk.runtime.build import build_devices, check_devices, device_report
from kiosk.settings import DEFAULT_CONFIG, Settings, load_settings


def settings_with(**sections: Any) -> Settings:
    return load_settings(DEFAULT_CONFIG).with_overrides(**sections)


def test_default_config_builds_a_simulated_speaker() -> None:
    devices = build_devices(load_settings(DEFAULT_CONFIG))
    try:
        assert isinstance(devices.speech, SimulatedSpeaker) and devices.backends["speech"] == "simulated"
        devices.speech.speak("Welcome", "en")
        assert devices.speech.spoken == [("Welcome", "en")]
        rows = {h.kind: h for h in devices.health()}
        assert rows["speech"].status is HealthStatus.OK
    finally:
        devices.stop()


def test_tablets_keep_speech_and_it_can_be_switched_off() -> None:
    tablet = build_devices(settings_with(kiosk={"mode": "tablet"}))
    assert isinstance(tablet.speech, SimulatedSpeaker) and tablet.printer is None
    off = build_devices(settings_with(devices={"speech": {"enabled": False}}))
    assert off.speech is None
    assert {h.kind: h.status for h in off.health()}["speech"] is HealthStatus.DISABLED


def test_stopping_the_devices_silences_speech() -> None:
    devices = build_devices(settings_with(devices={"speech": {"auto_finish": False}}))
    devices.speech.speak("A long page", "es")
    assert devices.speech.is_speaking
    devices.stop()
    assert not devices.speech.is_speaking


def test_config_check_and_doctor_know_the_espeak_backend() -> None:
    bad = settings_with(devices={"speech": {"backend": "espeak", "words_per_minute": 5}})
    problems = check_devices(bad)
    assert len(problems) == 1 and problems[0].startswith("[devices.speech] backend = 'espeak'")
    good = settings_with(devices={"speech": {"backend": "espeak", "voices": {"zh": "cmn"}}})
    assert check_devices(good) == []
    rows = {name: (status, detail) for name, status, detail in device_report(good)}
    assert "speech (espeak)" in rows  # ok where espeak-ng is installed, a fault with its key where not
