"""Exact identity matching on name + date of birth (two identifiers, never a fuzzy guess).

Normalization (STEPS.md, identify): casefold, strip accents, ignore spaces, hyphens, apostrophes and periods.
A patient matches when the normalized family name is equal, the first given name is equal (the whole given
name, or its first word on both sides), and the birth date is equal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date

from .types import Patient

# Characters that people type (or leave out) inconsistently: spaces, hyphens, apostrophes, periods.
_IGNORED = frozenset(" \t\u00a0-\u2010\u2011\u2012\u2013\u2014'\u2018\u2019\u02bc\u02b9`\u00b4.")


def normalize_name(text: str) -> str:
    """Casefold, strip accents and ignore spaces/hyphens/apostrophes/periods: "O'Brien-Núñez" → "obriennunez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = [ch for ch in decomposed if not unicodedata.combining(ch) and ch not in _IGNORED]
    # casefold after stripping again: NFKD can reveal characters whose casefold differs (rare, cheap).
    return "".join(kept).casefold()


def _first_word(text: str) -> str:
    parts = text.split()
    return normalize_name(parts[0]) if parts else ""


def given_matches(entered: str, on_file: str) -> bool:
    """The first given name matches: the whole given name, or the first word of each side."""
    whole = normalize_name(entered)
    if not whole:
        return False
    if whole == normalize_name(on_file):
        return True
    first = _first_word(entered)
    return bool(first) and first == _first_word(on_file)


def family_matches(entered: str, on_file: str) -> bool:
    norm = normalize_name(entered)
    return bool(norm) and norm == normalize_name(on_file)


def matches(patient: Patient, given: str, family: str, birth_date: date) -> bool:
    return (
        patient.birth_date == birth_date
        and family_matches(family, patient.family)
        and given_matches(given, patient.given)
    )


def exact_matches(
    candidates: Iterable[Patient], given: str, family: str, birth_date: date
) -> Sequence[Patient]:
    """Candidates that match exactly, one per patient id (a directory may return duplicates)."""
    seen: dict[str, Patient] = {}
    for patient in candidates:
        if patient.id not in seen and matches(patient, given, family, birth_date):
            seen[patient.id] = patient
    return tuple(seen.values())
