"""OCR words → insurance-card fields (pure Python: no OpenCV, no tesseract; unit-testable on plain data).

Words (text, confidence 0–100, box) are grouped into lines by their vertical centre, lines are cut into
phrases at wide gaps (cards print two columns), and each phrase is searched for labels in their common
variants ("ID", "Member ID", "Subscriber ID", "Identification Number", "Group #", "GRP", "RxBIN", "BIN",
"PCN", "RxGrp"…). A label's value is the rest of its phrase up to the next label, or — when the label stands
alone — the phrase just below it (small caps labels above their values). Values are cleaned (OCR look-alikes
inside digit runs: O→0, I/l→1, S→5, B→8…) and checked against the field's shape (an RxBIN has 6 digits, a
member ID 5–20 letters/digits with at least 4 digits…); anything else is dropped rather than guessed.

The payer comes from a list of common US payers matched fuzzily (``difflib``), else from the largest
unlabelled text at the top of the card (lower confidence). Copays are "<label> $<amount>" pairs.

Each field is a :class:`Candidate` with a confidence in 0..1: the OCR confidence of its words, times a
factor for how it was found (inline label 1.0, value below 0.92, unlabelled guess 0.5). :func:`vote` merges
the readings of several passes (frames × preprocessings): the value with the most support wins and its
confidence drops with every pass that read something else.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FIELDS = ("member_id", "group_number", "payer_name", "plan_name", "subscriber_name", "rx_bin", "rx_pcn", "rx_group")

PAYERS: dict[str, tuple[str, ...]] = {  # canonical name → extra spellings (lower case)
    "Aetna": ("aetna better health",),
    "Cigna": ("cigna healthcare",),
    "UnitedHealthcare": ("united healthcare", "uhc", "united health care"),
    "Humana": (),
    "Blue Cross Blue Shield": ("bluecross blueshield", "blue cross and blue shield", "bcbs"),
    "Blue Shield of California": (),
    "Anthem": ("anthem blue cross",),
    "Kaiser Permanente": ("kaiser",),
    "Molina Healthcare": ("molina",),
    "Oscar Health": ("oscar",),
    "Ambetter": ("ambetter from",),
    "Centene": (),
    "WellCare": ("wellcare health plans",),
    "Highmark": ("highmark blue shield",),
    "CareFirst": ("carefirst bluecross blueshield",),
    "Harvard Pilgrim": ("harvard pilgrim health care",),
    "Tufts Health Plan": (),
    "EmblemHealth": ("emblem health",),
    "Health Net": ("healthnet",),
    "Medicare": ("medicare health insurance",),
    "Medicaid": (),
    "TRICARE": (),
    "Magellan": (),
    "Optum": (),
    "Cigna-HealthSpring": (),
    "Premera Blue Cross": (),
    "Regence": (),
    "Excellus": (),
    "Independence Blue Cross": (),
    "Florida Blue": (),
    "Geisinger": (),
    "UPMC Health Plan": (),
    "Priority Health": (),
    "Meridian": (),
    "CareSource": (),
}


@dataclass(frozen=True)
class Word:
    text: str = field(repr=False)
    conf: float  # tesseract's word confidence, 0..100
    box: tuple[int, int, int, int]  # x0, y0, x1, y1

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Candidate:
    value: str = field(repr=False)
    confidence: float


@dataclass
class Phrase:
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (min(w.box[0] for w in self.words), min(w.box[1] for w in self.words),
                max(w.box[2] for w in self.words), max(w.box[3] for w in self.words))

    @property
    def height(self) -> float:
        return sorted(w.height for w in self.words)[len(self.words) // 2]


# -- labels ------------------------------------------------------------------------------------------------
_I = "[il1|!]"  # OCR reads a capital I as l, 1, | or !
_NUM = rf"(?:#|n[o0]\.?|number|num|{_I}d)"
LABELS: list[tuple[str, re.Pattern[str]]] = [
    ("rx_group", re.compile(rf"\brx\s*gr(?:ou)?p\b(?:\s*{_NUM})?(?:\s*#)?\s*[:.]?")),
    ("rx_bin", re.compile(rf"\b(?:rx\s*)?b{_I}n\b(?:\s*#)?\s*[:.]?")),
    ("rx_pcn", re.compile(r"\b(?:rx\s*)?pcn\b(?:\s*#)?\s*[:.]?")),
    ("group_number", re.compile(rf"\bgr(?:ou)?p\b(?:\s*{_NUM})?(?:\s*#)?\s*[:.]?")),
    ("member_id", re.compile(
        rf"\b(?:(?:member|subscr{_I}ber|mbr|medicare|policy|enrollee)\s*{_NUM}|{_I}dent{_I}f{_I}cat{_I}on\s*{_NUM}"
        rf"|{_I}d\b(?:\s*{_NUM})?)(?:\s*#)?\s*[:.]?")),
    ("subscriber_name", re.compile(
        rf"\b(?:(?:member|subscr{_I}ber|enrollee|insured|patient)\s+)?name\b(?:\s*/\s*nombre)?\s*[:.]?"
        rf"|\b(?:member|subscr{_I}ber|enrollee|insured)\b\s*[:.]?")),
    ("plan_name", re.compile(r"^\s*plan(?:\s*name)?\s*[:.]")),
]
_NOT_MEMBER_BEFORE = ("payer", "group", "grp", "rx", "provider", "tax", "plan", "card", "bin")
_COPAY = re.compile(
    r"\b(pcp|primary care|office visit|ov|specialist|spec|urgent care|uc|er|emergency room|emergency|copay|co-pay)"
    r"\s*:?\s*\$\s*(\d{1,4})(?:\.(\d{2}))?\b", re.IGNORECASE)
_COPAY_AMOUNT = re.compile(r"^\$\s*(\d{1,4})(?:\.(\d{2}))?$")
_COPAY_NAMES = {"pcp": "PCP", "primary care": "PCP", "office visit": "Office Visit", "ov": "Office Visit",
                "specialist": "Specialist", "spec": "Specialist", "urgent care": "Urgent Care",
                "uc": "Urgent Care", "er": "ER", "emergency room": "ER", "emergency": "ER", "copay": "Copay",
                "co-pay": "Copay"}


@dataclass(frozen=True)
class Copay:
    label: str  # "PCP", "Office Visit", "Specialist", "Urgent Care", "ER", "Copay"
    cents: int = field(repr=False)
    confidence: float


# -- values ------------------------------------------------------------------------------------------------
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "|": "1", "!": "1",
                                   "S": "5", "B": "8", "Z": "2", "G": "6", "T": "7"})
_TRIM = " :;,.'\"`|_()[]{}"


def _fix_digit_runs(token: str) -> str:
    """Look-alike letters between digits become digits ("12O45" → "12045"); a letter prefix stays."""
    chars = list(token)
    for i, ch in enumerate(chars):
        if ch.isdigit() or ch == "-":
            continue
        left = chars[i - 1] if i > 0 else ""
        right = chars[i + 1] if i + 1 < len(chars) else ""
        if left.isdigit() and right.isdigit():
            chars[i] = ch.translate(_DIGIT_LOOKALIKES)
    return "".join(chars)


def clean_id(text: str) -> str:
    token = text.strip(_TRIM).upper().replace("—", "-").replace("–", "-")
    token = re.sub(r"[^A-Z0-9\-|!]", "", token)
    return _fix_digit_runs(token).replace("|", "1").replace("!", "1").strip("-")


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def valid(name: str, value: str) -> bool:
    """Is ``value`` shaped like the field? (After :func:`clean_id` for the id-like fields.)"""
    if name == "member_id":
        return bool(re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{3,18}[A-Z0-9]", value)) and _digits(value) >= 4
    if name == "group_number":
        return bool(re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{1,18}[A-Z0-9]", value)) and _digits(value) >= 2
    if name == "rx_bin":
        return bool(re.fullmatch(r"\d{6}", value))
    if name == "rx_pcn":
        return bool(re.fullmatch(r"[A-Z0-9\-]{1,10}", value))
    if name == "rx_group":
        return bool(re.fullmatch(r"[A-Z0-9\-]{2,15}", value))
    if name == "subscriber_name":
        parts = value.split()
        return 2 <= len(parts) <= 4 and all(re.fullmatch(r"[A-Za-z][A-Za-z.'\-]*", p) for p in parts) and len(
            value.replace(" ", "")) >= 4
    if name in ("payer_name", "plan_name"):
        return 2 <= len(value) <= 80 and sum(c.isalpha() for c in value) >= 2
    return False


def _conf(words: Sequence[Word]) -> float:
    return max(0.0, min(1.0, min(w.conf for w in words) / 100.0)) if words else 0.0


def _value_from(name: str, words: Sequence[Word]) -> tuple[str, list[Word]] | None:
    """The field's value at the start of ``words`` (cleaned), with the words it used."""
    while words and not words[0].text.strip(_TRIM + "#"):
        words = words[1:]  # a stray "#:" or ":" between label and value
    if not words:
        return None
    if name == "subscriber_name":
        used: list[Word] = []
        for w in words:
            t = w.text.strip(_TRIM)
            if not re.fullmatch(r"[A-Za-z][A-Za-z.'\-]*", t) or len(used) == 4:
                break
            used.append(w)
        value = " ".join(w.text.strip(_TRIM) for w in used)
        return (value, used) if used and valid(name, value) else None
    if name == "plan_name":
        value = " ".join(w.text for w in words).strip(_TRIM)
        return (value, list(words)) if valid(name, value) else None
    first = clean_id(words[0].text)
    used = [words[0]]
    if len(words) > 1 and name == "member_id" and re.fullmatch(r"\d{1,3}", words[1].text.strip(_TRIM)) and (
        words[1].box[0] - words[0].box[2] < 1.2 * words[0].height
    ):
        first, used = first + words[1].text.strip(_TRIM), used + [words[1]]  # "H12345678 01": a suffix
    return (first, used) if valid(name, first) else None


# -- layout --------------------------------------------------------------------------------------------
def phrases(words: Iterable[Word]) -> list[Phrase]:
    """Words → phrases: same text line (vertical centres close) and no wide gap between neighbours."""
    items = sorted((w for w in words if w.text.strip()), key=lambda w: (w.box[1] + w.box[3]) / 2)
    lines: list[list[Word]] = []
    for w in items:
        cy = (w.box[1] + w.box[3]) / 2
        for line in lines:
            ly = sum((v.box[1] + v.box[3]) / 2 for v in line) / len(line)
            lh = max(v.height for v in line)
            if abs(cy - ly) < 0.5 * max(lh, w.height) and 0.4 < w.height / max(lh, 1) < 2.5:
                line.append(w)
                break
        else:
            lines.append([w])
    out: list[Phrase] = []
    for line in lines:
        line.sort(key=lambda w: w.box[0])
        current = [line[0]]
        for prev, w in zip(line, line[1:], strict=False):
            height = max(prev.height, w.height, 1)
            if w.box[0] - prev.box[2] > 2.2 * height:
                out.append(Phrase(current))
                current = []
            current.append(w)
        out.append(Phrase(current))
    out.sort(key=lambda p: (p.box[1], p.box[0]))
    return out


def _labels_in(phrase: Phrase) -> list[tuple[int, int, str]]:
    """(first word index, word index after the label, field) for every label in the phrase."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for w in phrase.words:
        spans.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    text = phrase.text.lower()
    taken: set[int] = set()
    found: list[tuple[int, int, str]] = []
    for name, pattern in LABELS:
        for m in pattern.finditer(text):
            start = next((i for i, (a, b) in enumerate(spans) if b > m.start()), None)
            end = next((i for i, (a, b) in enumerate(spans) if a >= m.end() - 0), len(spans))
            if start is None or end <= start or any(i in taken for i in range(start, end)):
                continue
            if name == "member_id" and start > 0 and phrase.words[start - 1].text.lower().strip(_TRIM) in (
                _NOT_MEMBER_BEFORE
            ):
                continue
            found.append((start, end, name))
            taken.update(range(start, end))
    found.sort()
    return found


def _below(phrase: Phrase, all_phrases: Sequence[Phrase], label_word: Word) -> Phrase | None:
    x0, _, x1, y1 = phrase.box
    h = phrase.height
    best: tuple[float, Phrase] | None = None
    for other in all_phrases:
        ox0, oy0, ox1, _ = other.box
        gap = oy0 - y1
        if other is phrase or gap < -0.3 * h or gap > 1.6 * max(h, other.height):
            continue
        if abs(ox0 - label_word.box[0]) > 2.5 * h and not (ox0 <= label_word.box[0] <= ox1):
            continue
        if best is None or gap < best[0]:
            best = (gap, other)
    return best[1] if best else None


def read_fields(words: Sequence[Word]) -> dict[str, Candidate]:
    """One OCR pass → the fields it shows (absent fields are left out)."""
    ps = phrases(words)
    found: dict[str, Candidate] = {}
    labelled: set[int] = set()
    used_phrases: set[int] = set()

    def offer(name: str, value: str, conf: float) -> None:
        if name not in found or conf > found[name].confidence:
            found[name] = Candidate(value, round(conf, 3))

    for index, phrase in enumerate(ps):
        labels = _labels_in(phrase)
        if labels:
            labelled.add(index)
        for k, (start, end, name) in enumerate(labels):
            stop = labels[k + 1][0] if k + 1 < len(labels) else len(phrase.words)
            value = _value_from(name, phrase.words[end:stop])
            if value is not None:
                offer(name, value[0], _conf(value[1]))
                used_phrases.add(index)
                continue
            if k + 1 == len(labels):  # the value may be printed underneath (small caps label above it)
                under = _below(phrase, ps, phrase.words[start])
                if under is not None and not _labels_in(under):
                    value = _value_from(name, under.words)
                    if value is not None:
                        offer(name, value[0], 0.92 * _conf(value[1]))
                        used_phrases.add(ps.index(under))
    payer = _payer(ps, labelled)
    if payer is not None:
        found["payer_name"] = payer
    if "member_id" not in found:  # the label was misread: a lone id-shaped token, long enough to be one
        for index, phrase in enumerate(ps):
            if index in labelled or index in used_phrases or len(phrase.words) != 1:
                continue
            value = _value_from("member_id", phrase.words)
            if value is not None and _digits(value[0]) >= 6 and value[0] not in {c.value for c in found.values()}:
                offer("member_id", value[0], 0.5 * _conf(value[1]))
                break
    if "subscriber_name" not in found:
        guess = _unlabelled_name(ps, labelled, found)
        if guess is not None:
            found["subscriber_name"] = guess
    return found


def _payer(ps: Sequence[Phrase], labelled: set[int]) -> Candidate | None:
    best: tuple[float, str, float] | None = None
    for phrase in ps:
        words = [w.text.strip(_TRIM).lower() for w in phrase.words]
        for canonical, extra in PAYERS.items():
            for spelling in (canonical.lower(), *extra):
                n = len(spelling.split())
                for i in range(max(1, len(words) - n + 1)):
                    window = " ".join(words[i : i + n])
                    ratio = difflib.SequenceMatcher(None, window, spelling).ratio()
                    if ratio >= 0.82 and (best is None or ratio > best[0]):
                        best = (ratio, canonical, _conf(phrase.words[i : i + n]))
    if best is not None:
        return Candidate(best[1], round(best[0] * max(best[2], 0.3), 3))
    if not ps:
        return None
    top = max(p.box[3] for p in ps)
    unlabelled = [p for i, p in enumerate(ps) if i not in labelled and p.box[1] < 0.35 * top]
    unlabelled = [p for p in unlabelled if sum(c.isalpha() for c in p.text) >= 4 and "$" not in p.text]
    if not unlabelled:
        return None
    biggest = max(unlabelled, key=lambda p: p.height)
    kept = [w for w in biggest.words if re.search(r"[A-Za-z]{2,}", w.text)]
    value = " ".join(w.text.strip(_TRIM) for w in kept)
    return Candidate(value, round(0.5 * _conf(kept), 3)) if kept and valid("payer_name", value) else None


def _unlabelled_name(ps: Sequence[Phrase], labelled: set[int], found: dict[str, Candidate]) -> Candidate | None:
    """A large line of two or three capitalised words that is not the payer: the member's name."""
    payer = found.get("payer_name")
    options = []
    for i, p in enumerate(ps):
        if i in labelled or (payer is not None and difflib.SequenceMatcher(None, p.text.lower(),
                                                                           payer.value.lower()).ratio() > 0.6):
            continue
        value = _value_from("subscriber_name", p.words)
        if value is not None and len(value[1]) == len(p.words) and len(p.words) in (2, 3) and all(
            w.text.strip(_TRIM).isupper() for w in p.words
        ):
            options.append((p.height, value))
    if not options:
        return None
    _, (text, used) = max(options, key=lambda o: o[0])
    return Candidate(text, round(0.5 * _conf(used), 3))


def read_copays(words: Sequence[Word]) -> list[Copay]:
    out: dict[str, Copay] = {}
    for phrase in phrases(words):
        text = phrase.text
        for m in _COPAY.finditer(text):
            cents = int(m.group(2)) * 100 + int(m.group(3) or 0)
            label = _COPAY_NAMES[m.group(1).lower()]
            out.setdefault(label, Copay(label, cents, round(_conf(phrase.words), 3)))
        # label and amount far apart on one line (a table): "Specialist ........ $40"
        if len(phrase.words) >= 1 and not _COPAY.search(text):
            amount = _COPAY_AMOUNT.match(phrase.words[-1].text)
            head = " ".join(w.text for w in phrase.words[:-1]).lower().strip(_TRIM)
            if amount and head in _COPAY_NAMES:
                label = _COPAY_NAMES[head]
                out.setdefault(label, Copay(label, int(amount.group(1)) * 100, round(_conf(phrase.words), 3)))
    return list(out.values())


# -- voting ----------------------------------------------------------------------------------------------
def vote(passes: Sequence[dict[str, Candidate]]) -> dict[str, Candidate]:
    """Merge passes: per field the value with the highest summed confidence; its confidence is its best
    single confidence times the share of passes (that read the field at all) agreeing with it."""
    merged: dict[str, Candidate] = {}
    for name in FIELDS:
        support: dict[str, list[float]] = {}
        for reading in passes:
            cand = reading.get(name)
            if cand is not None:
                key = cand.value.upper() if name != "payer_name" else cand.value
                support.setdefault(key, []).append(cand.confidence)
        if not support:
            continue
        total = sum(len(v) for v in support.values())
        key, confs = max(support.items(), key=lambda kv: (sum(kv[1]), len(kv[1])))
        original = next(r[name].value for r in passes if name in r and (
            r[name].value.upper() if name != "payer_name" else r[name].value) == key)
        merged[name] = Candidate(original, round(max(confs) * len(confs) / total, 3))
    return merged
