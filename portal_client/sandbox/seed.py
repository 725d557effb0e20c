"""Demo practice data for the FHIR sandbox: Riverside Family Medicine, today.

Everything is generated relative to ``now`` in the practice's timezone and written through the FHIR API
(two transaction Bundles), so the server validates it. All people here are invented.

The scenarios (see DEMO_* below and README.md):
  DEMO_RETURNING     appointment in 20 min, nothing to fill (recent PHQ-9, consent signed), copay $25
  DEMO_NEW_FORMS     appointment 5 min ago, forms + consent due (accented, hyphenated name)
  DEMO_NEW_PATIENT   visit type NEW: must see the desk
  DEMO_TOO_EARLY     appointment in 2 hours
  DEMO_LATE          appointment 40 min ago
  DEMO_TWO_VISITS    two appointments today (in 15 and 45 min)
  DEMO_ARRIVED       already checked in
  DEMO_BALANCE       outstanding balance $250
  DEMO_TWIN_A / _B   same family name and birth date, different given names; B sees a desk-list provider
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from . import seed_resources as r

DEFAULT_TZ = ZoneInfo("America/New_York")
# A fixed "now" for tests (a Wednesday morning): tests never depend on the wall clock.
TEST_NOW = datetime(2025, 3, 12, 10, 30, tzinfo=DEFAULT_TZ)

ORGANIZATION_ID = "org-riverside"
CLINIC_NAME = "Riverside Family Medicine"
LOCATION_MAIN = "loc-main"
LOCATION_PEDS = "loc-peds"
LOCATION_NAMES = {LOCATION_MAIN: "Main waiting room", LOCATION_PEDS: "East wing - Pediatrics"}
PRACTITIONER_CHEN = "prac-chen"  # Dr. Maya Chen, family medicine
PRACTITIONER_PATEL = "prac-patel"  # Priya Patel, NP, pediatrics
PRACTITIONER_OKAFOR = "prac-okafor"  # Dr. Samuel Okafor: on the demo's desk list
DESK_PROVIDER_IDS = frozenset({PRACTITIONER_OKAFOR})
DESK_VISIT_TYPES = frozenset({"NEW"})
QUESTIONNAIRE_HEALTH_HISTORY = "q-health-history"  # NEW and ANNUAL visits, renewed yearly
QUESTIONNAIRE_PHQ9 = "q-phq9"  # ANNUAL and FOLLOWUP visits, renewed after 30 days
CONSENT_DOCUMENT_ID = "doc-consent-general"
PAYERS = {
    "org-payer-bhh": "Blue Harbor Health",
    "org-payer-medicare": "Medicare",
    "org-payer-summit": "Summit Mutual Insurance",
}


@dataclass(frozen=True)
class DemoPatient:
    given: str
    family: str
    birth_date: date
    patient_id: str


DEMO_RETURNING = DemoPatient("Eleanor", "Whitfield", date(1948, 6, 12), "pat-whitfield")
DEMO_NEW_FORMS = DemoPatient("José", "Álvarez-Núñez", date(1957, 3, 9), "pat-alvarez-nunez")
DEMO_NEW_PATIENT = DemoPatient("Aisha", "Rahman", date(1990, 11, 23), "pat-rahman")
DEMO_TOO_EARLY = DemoPatient("Robert", "Kowalski", date(1962, 1, 30), "pat-kowalski")
DEMO_LATE = DemoPatient("Linh", "Nguyen", date(1985, 7, 4), "pat-nguyen")
DEMO_TWO_VISITS = DemoPatient("Grace", "O'Connor", date(1979, 9, 15), "pat-oconnor")
DEMO_ARRIVED = DemoPatient("Daniel", "Brooks-Hale", date(1970, 4, 18), "pat-brooks-hale")
DEMO_BALANCE = DemoPatient("Harold", "Jenkins", date(1955, 12, 2), "pat-jenkins")
DEMO_TWIN_A = DemoPatient("Maria", "Santos", date(2015, 5, 20), "pat-santos-maria")
DEMO_TWIN_B = DemoPatient("Lucia", "Santos", date(2015, 5, 20), "pat-santos-lucia")

DEMO_PATIENTS: dict[str, DemoPatient] = {
    "returning": DEMO_RETURNING,
    "new_forms": DEMO_NEW_FORMS,
    "new_patient": DEMO_NEW_PATIENT,
    "too_early": DEMO_TOO_EARLY,
    "late": DEMO_LATE,
    "two_visits": DEMO_TWO_VISITS,
    "arrived": DEMO_ARRIVED,
    "balance": DEMO_BALANCE,
    "twin_a": DEMO_TWIN_A,
    "twin_b": DEMO_TWIN_B,
}

# key, patient, practitioner, location, visit type, minutes from now, status
_APPOINTMENTS: tuple[tuple[str, DemoPatient, str, str, str, int, str], ...] = (
    ("returning", DEMO_RETURNING, PRACTITIONER_CHEN, LOCATION_MAIN, "FOLLOWUP", 20, "booked"),
    ("new_forms", DEMO_NEW_FORMS, PRACTITIONER_CHEN, LOCATION_MAIN, "ANNUAL", -5, "booked"),
    ("new_patient", DEMO_NEW_PATIENT, PRACTITIONER_CHEN, LOCATION_MAIN, "NEW", 10, "booked"),
    ("too_early", DEMO_TOO_EARLY, PRACTITIONER_CHEN, LOCATION_MAIN, "FOLLOWUP", 120, "booked"),
    ("late", DEMO_LATE, PRACTITIONER_CHEN, LOCATION_MAIN, "SICK", -40, "booked"),
    ("two_visits_1", DEMO_TWO_VISITS, PRACTITIONER_CHEN, LOCATION_MAIN, "FOLLOWUP", 15, "booked"),
    ("two_visits_2", DEMO_TWO_VISITS, PRACTITIONER_PATEL, LOCATION_PEDS, "SICK", 45, "booked"),
    ("arrived", DEMO_ARRIVED, PRACTITIONER_CHEN, LOCATION_MAIN, "FOLLOWUP", -10, "arrived"),
    ("balance", DEMO_BALANCE, PRACTITIONER_CHEN, LOCATION_MAIN, "FOLLOWUP", 10, "booked"),
    ("twin_a", DEMO_TWIN_A, PRACTITIONER_PATEL, LOCATION_PEDS, "WELLCHILD", 25, "booked"),
    ("twin_b", DEMO_TWIN_B, PRACTITIONER_OKAFOR, LOCATION_PEDS, "WELLCHILD", 25, "booked"),
)


@dataclass(frozen=True)
class SeedInfo:
    """What was seeded: ids for tests, config and the demo."""

    base_url: str
    now: datetime  # the "now" the schedule was built around (practice timezone)
    organization_id: str
    location_ids: dict[str, str]  # id -> name
    practitioner_ids: tuple[str, ...]
    patients: dict[str, DemoPatient]
    appointment_ids: dict[str, str]  # scenario key -> Appointment id
    coverage_ids: dict[str, str]  # scenario key -> Coverage id
    questionnaire_ids: tuple[str, ...]
    consent_document_id: str
    desk_provider_ids: frozenset[str] = DESK_PROVIDER_IDS
    desk_visit_types: frozenset[str] = DESK_VISIT_TYPES
    versions: dict[str, str] = field(default_factory=dict, repr=False)  # "Type/id" -> versionId

    @property
    def today(self) -> date:
        return self.now.date()


def _patients() -> list[dict[str, Any]]:
    p = r.patient
    return [
        p(
            DEMO_RETURNING.patient_id,
            "Eleanor",
            "Whitfield",
            DEMO_RETURNING.birth_date,
            middle="May",
            gender="female",
            phone="(555) 201-4410",
            email="eleanor.w@example.org",
            address=("14 Orchard Lane", "Riverside", "NY", "12901"),
            mrn="RFM-100231",
        ),
        p(
            DEMO_NEW_FORMS.patient_id,
            "José",
            "Álvarez-Núñez",
            DEMO_NEW_FORMS.birth_date,
            middle="Luis",
            gender="male",
            phone="(555) 318-0921",
            email="",
            language="es",
            address=("220 River Street Apt 3B", "Riverside", "NY", "12901"),
            mrn="RFM-100877",
        ),
        p(
            DEMO_NEW_PATIENT.patient_id,
            "Aisha",
            "Rahman",
            DEMO_NEW_PATIENT.birth_date,
            gender="female",
            phone="(555) 640-7733",
            email="aisha.rahman@example.com",
            address=("9 Birch Court", "Plattsburgh", "NY", "12903"),
            mrn="RFM-101502",
        ),
        p(
            DEMO_TOO_EARLY.patient_id,
            "Robert",
            "Kowalski",
            DEMO_TOO_EARLY.birth_date,
            gender="male",
            phone="(555) 772-1180",
            email="",
            address=("51 Mill Road", "Riverside", "NY", "12901"),
            mrn="RFM-100412",
        ),
        p(
            DEMO_LATE.patient_id,
            "Linh",
            "Nguyen",
            DEMO_LATE.birth_date,
            gender="female",
            phone="(555) 905-3321",
            email="linh.nguyen@example.net",
            address=("3 Harbor View", "Riverside", "NY", "12901"),
            mrn="RFM-100968",
        ),
        p(
            DEMO_TWO_VISITS.patient_id,
            "Grace",
            "O'Connor",
            DEMO_TWO_VISITS.birth_date,
            gender="female",
            phone="(555) 433-8812",
            email="grace.oconnor@example.org",
            address=("77 Elm Street", "Riverside", "NY", "12901"),
            mrn="RFM-100655",
        ),
        p(
            DEMO_ARRIVED.patient_id,
            "Daniel",
            "Brooks-Hale",
            DEMO_ARRIVED.birth_date,
            gender="male",
            phone="(555) 219-6604",
            email="",
            address=("5 Lakeshore Drive", "Riverside", "NY", "12901"),
            mrn="RFM-100120",
        ),
        p(
            DEMO_BALANCE.patient_id,
            "Harold",
            "Jenkins",
            DEMO_BALANCE.birth_date,
            gender="male",
            phone="(555) 388-2047",
            email="",
            address=("118 Cedar Avenue", "Riverside", "NY", "12901"),
            mrn="RFM-100033",
            balance="250.00",
        ),
        p(
            DEMO_TWIN_A.patient_id,
            "Maria",
            "Santos",
            DEMO_TWIN_A.birth_date,
            gender="female",
            phone="(555) 510-2290",
            email="ana.santos@example.com",
            address=("40 Maple Street", "Riverside", "NY", "12901"),
            mrn="RFM-101210",
        ),
        p(
            DEMO_TWIN_B.patient_id,
            "Lucia",
            "Santos",
            DEMO_TWIN_B.birth_date,
            gender="female",
            phone="(555) 510-2290",
            email="ana.santos@example.com",
            address=("40 Maple Street", "Riverside", "NY", "12901"),
            mrn="RFM-101211",
        ),
    ]


def _coverages() -> dict[str, dict[str, Any]]:
    c = r.coverage
    santos = "Ana Santos"
    return {
        "returning": c(
            "cov-whitfield",
            DEMO_RETURNING.patient_id,
            "org-payer-bhh",
            "Blue Harbor Health",
            "BHH847261935",
            group="GRP-20417",
            plan="Gold PPO",
            copay="25.00",
            rx=("610014", "BHHRX", "RX20417"),
        ),
        "new_forms": c(
            "cov-alvarez-nunez",
            DEMO_NEW_FORMS.patient_id,
            "org-payer-summit",
            "Summit Mutual Insurance",
            "SMI-55-8812-03",
            group="778120",
            copay="40.00",
        ),
        # No payer display: readers resolve Organization/org-payer-medicare's name.
        "too_early": c("cov-kowalski", DEMO_TOO_EARLY.patient_id, "org-payer-medicare", "", "1EG4TE5MK73"),
        "two_visits": c(
            "cov-oconnor",
            DEMO_TWO_VISITS.patient_id,
            "org-payer-bhh",
            "Blue Harbor Health",
            "BHH310558120",
            group="GRP-88120",
            plan="Silver HMO",
            copay="30.00",
        ),
        "arrived": c(
            "cov-brooks-hale",
            DEMO_ARRIVED.patient_id,
            "org-payer-summit",
            "Summit Mutual Insurance",
            "SMI-20-4471-01",
            group="440019",
        ),
        "balance": c("cov-jenkins", DEMO_BALANCE.patient_id, "org-payer-medicare", "Medicare", "7QX2WD4HJ19"),
        "twin_a": c(
            "cov-santos-maria",
            DEMO_TWIN_A.patient_id,
            "org-payer-bhh",
            "Blue Harbor Health",
            "BHH772100415",
            group="GRP-31007",
            copay="15.00",
            subscriber=santos,
        ),
        "twin_b": c(
            "cov-santos-lucia",
            DEMO_TWIN_B.patient_id,
            "org-payer-bhh",
            "Blue Harbor Health",
            "BHH772100416",
            group="GRP-31007",
            copay="15.00",
            subscriber=santos,
        ),
    }


def _practice(published: date) -> list[dict[str, Any]]:
    resources = [r.organization(ORGANIZATION_ID, CLINIC_NAME, phone="(555) 201-0000")]
    resources += [r.organization(org_id, name, payer=True) for org_id, name in PAYERS.items()]
    resources += [
        r.location(
            LOCATION_MAIN, LOCATION_NAMES[LOCATION_MAIN], ORGANIZATION_ID, "Ground floor, by the entrance"
        ),
        r.location(LOCATION_PEDS, LOCATION_NAMES[LOCATION_PEDS], ORGANIZATION_ID, "East wing, second door"),
        r.practitioner(PRACTITIONER_CHEN, "Dr.", "Maya", "Chen", "MD", "1972839405"),
        r.practitioner(PRACTITIONER_PATEL, "", "Priya", "Patel", "NP", "1548372610"),
        r.practitioner(PRACTITIONER_OKAFOR, "Dr.", "Samuel", "Okafor", "MD", "1306947251"),
        r.health_history_questionnaire(QUESTIONNAIRE_HEALTH_HISTORY, "NEW", "ANNUAL", renewal_days=365),
        r.phq9_questionnaire(QUESTIONNAIRE_PHQ9, "ANNUAL", "FOLLOWUP", renewal_days=30),
        r.consent_template(CONSENT_DOCUMENT_ID, ORGANIZATION_ID, "general-consent-2025-01", published),
    ]
    return resources


def seed(
    base_url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ, auth: httpx.Auth | None = None
) -> SeedInfo:
    """Write the demo practice through the FHIR API; ``now`` defaults to the wall clock in ``tz``.
    ``auth``: for a sandbox started with ``--auth-config``."""
    now = (now.astimezone(tz) if now is not None else datetime.now(tz)).replace(second=0, microsecond=0)
    practice = _practice(published=date(2025, 1, 1))
    phq9 = next(x for x in practice if x["id"] == QUESTIONNAIRE_PHQ9)
    coverages = _coverages()
    appointments = {
        key: r.appointment(
            f"appt-{key.replace('_', '-')}",
            who.patient_id,
            prac,
            loc,
            visit,
            now + timedelta(minutes=minutes),
            status=status,
        )
        for key, who, prac, loc, visit, minutes, status in _APPOINTMENTS
    }
    history = [
        r.phq9_all_zero_response(
            "qr-whitfield-phq9", phq9, DEMO_RETURNING.patient_id, now - timedelta(days=10)
        ),
        r.signed_consent(
            "consent-whitfield-general",
            DEMO_RETURNING.patient_id,
            CONSENT_DOCUMENT_ID,
            ORGANIZATION_ID,
            now - timedelta(days=200),
        ),
    ]
    versions: dict[str, str] = {}
    with httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=30.0, auth=auth) as http:
        for batch in (
            practice,
            _patients() + list(coverages.values()) + list(appointments.values()) + history,
        ):
            response = http.post(
                "", json=r.transaction(batch), headers={"Content-Type": "application/fhir+json"}
            )
            if response.status_code != 200:
                raise RuntimeError(
                    f"seeding the FHIR sandbox failed: HTTP {response.status_code}: {response.text}"
                )
            for entry in response.json().get("entry", []):
                res = entry.get("resource") or {}
                versions[f"{res.get('resourceType')}/{res.get('id')}"] = res.get("meta", {}).get(
                    "versionId", ""
                )
    return SeedInfo(
        base_url=base_url.rstrip("/"),
        now=now,
        organization_id=ORGANIZATION_ID,
        location_ids=dict(LOCATION_NAMES),
        practitioner_ids=(PRACTITIONER_CHEN, PRACTITIONER_PATEL, PRACTITIONER_OKAFOR),
        patients=dict(DEMO_PATIENTS),
        appointment_ids={key: appt["id"] for key, appt in appointments.items()},
        coverage_ids={key: cov["id"] for key, cov in coverages.items()},
        questionnaire_ids=(QUESTIONNAIRE_HEALTH_HISTORY, QUESTIONNAIRE_PHQ9),
        consent_document_id=CONSENT_DOCUMENT_ID,
        versions=versions,
    )


_SCENARIOS = {
    "returning": "appointment in 20 min, nothing to fill, co-pay $25",
    "new_forms": "appointment 5 min ago, forms and consent due",
    "new_patient": "new-patient visit: sees the desk",
    "too_early": "appointment in 2 hours: too early",
    "late": "appointment 40 min ago: late",
    "two_visits": "two appointments today",
    "arrived": "already checked in",
    "balance": "outstanding balance $250",
    "twin_a": "shares family name and birth date with Lucia",
    "twin_b": "sees Dr. Okafor (on the desk list)",
}


def describe(info: SeedInfo) -> str:
    """A short text for the `kiosk sandbox` console: the invented demo patients and what each one shows."""
    lines = [f"Seeded {CLINIC_NAME} around {info.now:%Y-%m-%d %H:%M %Z} (demo data, invented people):"]
    for key, who in info.patients.items():
        lines.append(f"  {who.given} {who.family}, born {who.birth_date:%m/%d/%Y}: {_SCENARIOS.get(key, '')}")
    lines.append(f"Desk-list provider id: {', '.join(sorted(info.desk_provider_ids))}")
    return "\n".join(lines)
