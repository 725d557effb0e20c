"""A crowd of invented patients with appointments today, for load, crash and outage tests and the benchmark.

Seed the demo practice first (``seed.seed``: practitioners, locations, Questionnaires, consent template),
then ``seed_crowd(base_url, crowd(n, now), now=now)``. Patient ``i`` has one appointment with Dr. Chen in
the main waiting room, starting between 10 minutes ago and 25 minutes ahead (inside the default check-in
window), in one of three shapes that cycle:

- ``returning``: FOLLOWUP, PHQ-9 answered 10 days ago, consent signed, insurance with a $25 co-pay: nothing to
  fill (a check-in Bundle of 4 entries: one transaction);
- ``forms``: ANNUAL, health history + PHQ-9 + consent due, insurance with a $40 co-pay (8+ entries);
- ``sick``: SICK visit, consent due, no insurance on file (self-pay).

Everything is deterministic in ``i`` (names, birth dates, ids), so a test and a separate process agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from . import seed_resources as r
from .seed import CONSENT_DOCUMENT_ID, LOCATION_MAIN, ORGANIZATION_ID, PRACTITIONER_CHEN, QUESTIONNAIRE_PHQ9

SHAPES = ("returning", "forms", "sick")
_VISIT = {"returning": "FOLLOWUP", "forms": "ANNUAL", "sick": "SICK"}
_GIVEN = ("Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jules", "Kendall",
          "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sawyer", "Tatum")  # fmt: skip
_FAMILY = ("Abernathy", "Brightwater", "Castellano", "Dunmore", "Ellsworth", "Fairbanks", "Galloway", "Hargrove",
           "Islington", "Jessup", "Kettering", "Lindqvist", "Marchetti", "Northcott", "Ostrander", "Pemberton",
           "Quillfeather", "Rosenthal", "Stanwick", "Thornbury", "Underhill")  # fmt: skip
_CHUNK = 40  # entries per seeding transaction (Medplum allows 50 updates in one)


@dataclass(frozen=True)
class CrowdPatient:
    index: int
    given: str
    family: str
    birth_date: date
    shape: str
    start: datetime

    @property
    def patient_id(self) -> str:
        return f"crowd-pat-{self.index:04d}"

    @property
    def appointment_id(self) -> str:
        return f"crowd-appt-{self.index:04d}"

    @property
    def member_id(self) -> str:
        return f"CRW{7310000 + self.index * 37:09d}"

    @property
    def visit_type(self) -> str:
        return _VISIT[self.shape]


def crowd(n: int, now: datetime, *, first: int = 0) -> list[CrowdPatient]:
    """``n`` crowd patients (indexes ``first`` .. ``first + n - 1``) with appointments around ``now``."""
    now = now.replace(second=0, microsecond=0)
    return [
        CrowdPatient(
            index=i,
            given=_GIVEN[i % len(_GIVEN)],
            family=_FAMILY[(i * 7 + i // len(_GIVEN)) % len(_FAMILY)],
            birth_date=date(1940, 1, 1) + timedelta(days=(401 * i + 17) % (80 * 365)),  # unique for i < 29200
            shape=SHAPES[i % len(SHAPES)],
            start=now + timedelta(minutes=(i % 8) * 5 - 10),
        )
        for i in range(first, first + n)
    ]


def resources(p: CrowdPatient, phq9: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """What the back-end holds for one crowd patient before check-in."""
    n = p.index
    out = [
        r.patient(p.patient_id, p.given, p.family, p.birth_date, gender="unknown",
                  phone=f"(555) 7{n // 1000 % 10}{n // 100 % 10}-{n % 100:02d}{n % 7}{n % 3}",
                  email=f"crowd{n}@example.org", address=(f"{100 + n} Crowd Street", "Riverside", "NY", "12901"),
                  mrn=f"RFM-9{n:05d}"),  # fmt: skip
        r.appointment(p.appointment_id, p.patient_id, PRACTITIONER_CHEN, LOCATION_MAIN, p.visit_type, p.start),
    ]
    if p.shape in ("returning", "forms"):
        copay = "25.00" if p.shape == "returning" else "40.00"
        out.append(r.coverage(f"crowd-cov-{n:04d}", p.patient_id, "org-payer-bhh", "Blue Harbor Health",
                              p.member_id, group="GRP-20417", copay=copay))  # fmt: skip
    if p.shape == "returning":
        assert phq9 is not None
        out.append(r.phq9_all_zero_response(f"crowd-qr-{n:04d}", phq9, p.patient_id, p.start - timedelta(days=10)))
        out.append(r.signed_consent(f"crowd-consent-{n:04d}", p.patient_id, CONSENT_DOCUMENT_ID, ORGANIZATION_ID,
                                    p.start - timedelta(days=200)))  # fmt: skip
    return out


def seed_crowd(base_url: str, patients: list[CrowdPatient], *, auth: httpx.Auth | None = None) -> None:
    """Write the crowd (after ``seed.seed``) in transactions of PUTs (stable ids)."""
    with httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=60.0, auth=auth) as http:
        phq9 = http.get(f"Questionnaire/{QUESTIONNAIRE_PHQ9}").raise_for_status().json()
        batch = [res for p in patients for res in resources(p, phq9)]
        for i in range(0, len(batch), _CHUNK):
            response = http.post("", json=r.transaction(batch[i : i + _CHUNK]),
                                 headers={"Content-Type": "application/fhir+json"})  # fmt: skip
            if response.status_code != 200:
                raise RuntimeError(f"seeding the crowd failed: HTTP {response.status_code}: {response.text[:500]}")
