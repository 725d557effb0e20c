"""FHIR R4 Questionnaire definitions read from plain JSON into small frozen types.

Lenient by design: a Questionnaire comes from the practice's back-end, so a malformed part is skipped, never
fatal. Items of types the kiosk does not ask (quantity, dateTime, time, url, attachment, reference, unknown)
are kept out of the model, with their children: they are never shown and never answered (STEPS.md, forms).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .types import JSON, Answer, AnswerKind

log = logging.getLogger(__name__)

QUESTION_TYPES = frozenset(
    {"string", "text", "integer", "decimal", "date", "boolean", "choice", "open-choice"}
)
SUPPORTED_TYPES = QUESTION_TYPES | {"display", "group"}
OPERATORS = frozenset({"exists", "=", "!=", ">", "<", ">=", "<="})


@dataclass(frozen=True)
class Option:
    key: str
    display: str = field(repr=False)
    answer: Answer = field(repr=False)


@dataclass(frozen=True)
class EnableWhen:
    question: str
    operator: str
    kind: str  # "boolean" | "decimal" | "integer" | "date" | "string" | "coding" | "unsupported"
    value: Any = field(repr=False)
    system: str = ""


@dataclass(frozen=True)
class QItem:
    link_id: str
    type: str
    text: str = field(default="", repr=False)
    prefix: str = ""
    required: bool = False
    repeats: bool = False
    read_only: bool = False
    max_length: int | None = None
    options: tuple[Option, ...] = ()
    enable_when: tuple[EnableWhen, ...] = ()
    enable_any: bool = False  # enableBehavior "any"; default "all"
    initial: tuple[Answer, ...] = field(default=(), repr=False)
    items: tuple[QItem, ...] = ()

    @property
    def is_question(self) -> bool:
        return self.type in QUESTION_TYPES

    @property
    def answerable(self) -> bool:
        """A choice without any option cannot be answered (its value set could not be found)."""
        return self.is_question and not (self.type == "choice" and not self.options)


@dataclass(frozen=True)
class QuestionnaireDef:
    id: str
    url: str  # canonical "url|version", or "Questionnaire/<id>" when the resource has no url
    title: str
    items: tuple[QItem, ...]
    by_link_id: Mapping[str, QItem] = field(repr=False, compare=False)
    parent_of: Mapping[str, str] = field(repr=False, compare=False)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _bool(value: Any) -> bool:
    return value is True


def coding_answer(coding: Any) -> Answer | None:
    if not isinstance(coding, Mapping):
        return None
    code = _str(coding.get("code"))
    if not code:
        return None
    return Answer(
        AnswerKind.CODING, code, system=_str(coding.get("system")), display=_str(coding.get("display"))
    )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def typed_value(element: Mapping[str, Any], prefix: str) -> Answer | None:
    """Read ``<prefix>Boolean``/``Integer``/``Decimal``/``Date``/``String``/``Coding`` into an Answer."""
    if isinstance(element.get(prefix + "Boolean"), bool):
        return Answer(AnswerKind.BOOLEAN, element[prefix + "Boolean"])
    raw_int = element.get(prefix + "Integer")
    if isinstance(raw_int, int) and not isinstance(raw_int, bool):
        return Answer(AnswerKind.INTEGER, raw_int)
    if prefix + "Decimal" in element:
        dec = _decimal(element[prefix + "Decimal"])
        return Answer(AnswerKind.DECIMAL, dec) if dec is not None else None
    if prefix + "Date" in element:
        day = _date(element[prefix + "Date"])
        return Answer(AnswerKind.DATE, day) if day is not None else None
    if isinstance(element.get(prefix + "String"), str):
        return Answer(AnswerKind.STRING, element[prefix + "String"])
    if prefix + "Coding" in element:
        return coding_answer(element[prefix + "Coding"])
    return None


def _option_key(answer: Answer) -> str:
    if answer.kind == AnswerKind.DATE:
        return str(answer.value.isoformat())
    return str(answer.value)


def _options_from_valueset(valueset: Mapping[str, Any]) -> list[Answer]:
    answers: list[Answer] = []
    expansion = valueset.get("expansion")
    if isinstance(expansion, Mapping) and isinstance(expansion.get("contains"), list):
        for entry in expansion["contains"]:
            answer = coding_answer(entry)
            if answer is not None:
                answers.append(answer)
        if answers:
            return answers
    compose = valueset.get("compose")
    includes = compose.get("include") if isinstance(compose, Mapping) else None
    for include in includes if isinstance(includes, list) else []:
        if not isinstance(include, Mapping) or not isinstance(include.get("concept"), list):
            continue
        system = _str(include.get("system"))
        for concept in include["concept"]:
            if isinstance(concept, Mapping):
                answer = coding_answer({"system": system, **concept})
                if answer is not None:
                    answers.append(answer)
    return answers


def _options(raw: Mapping[str, Any], contained: Mapping[str, Mapping[str, Any]]) -> tuple[Option, ...]:
    answers: list[tuple[Answer, bool]] = []
    raw_options = raw.get("answerOption")
    for entry in raw_options if isinstance(raw_options, list) else []:
        if isinstance(entry, Mapping):
            answer = typed_value(entry, "value")
            if answer is not None:
                answers.append((answer, _bool(entry.get("initialSelected"))))
    value_set = _str(raw.get("answerValueSet"))
    if not answers and value_set.startswith("#") and value_set[1:] in contained:
        answers = [(a, False) for a in _options_from_valueset(contained[value_set[1:]])]
    answers = [(a, sel) for a, sel in answers if _option_key(a)]
    keys = [_option_key(a) for a, _ in answers]
    if len(set(keys)) != len(keys):
        keys = [f"{a.system}|{k}" if a.system else k for (a, _), k in zip(answers, keys, strict=True)]
    if len(set(keys)) != len(keys):
        keys = [str(i) for i in range(len(keys))]
    options = [
        Option(key=key, display=answer.display or _option_key(answer), answer=answer)
        for (answer, _), key in zip(answers, keys, strict=True)
    ]
    return tuple(options)


def _initial(raw: Mapping[str, Any], item_type: str, options: tuple[Option, ...]) -> tuple[Answer, ...]:
    found: list[Answer] = []
    raw_initial = raw.get("initial")
    for entry in raw_initial if isinstance(raw_initial, list) else []:
        if isinstance(entry, Mapping):
            answer = typed_value(entry, "value")
            if answer is not None:
                found.append(answer)
    raw_options = raw.get("answerOption")
    if isinstance(raw_options, list):
        selected = [
            typed_value(o, "value")
            for o in raw_options
            if isinstance(o, Mapping) and _bool(o.get("initialSelected"))
        ]
        found.extend(a for a in selected if a is not None)
    if item_type in ("choice", "open-choice"):
        matched: list[Answer] = []
        for answer in found:
            option = next((o for o in options if same_answer(o.answer, answer)), None)
            if option is not None:
                matched.append(option.answer)
            elif item_type == "open-choice" and answer.kind == AnswerKind.STRING:
                matched.append(answer)
        found = matched
    return tuple(dict.fromkeys(found))


def same_answer(a: Answer, b: Answer) -> bool:
    if a.kind != b.kind or a.value != b.value:
        return False
    return not (a.kind == AnswerKind.CODING and a.system and b.system and a.system != b.system)


def _enable_when(raw: Any) -> tuple[EnableWhen, ...]:
    result: list[EnableWhen] = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, Mapping):
            continue
        question, operator = _str(entry.get("question")), _str(entry.get("operator"))
        if not question or operator not in OPERATORS:
            continue  # malformed: ignored (the item stays governed by its other conditions)
        answer = typed_value(entry, "answer")
        if answer is None:
            kind, value, system = "unsupported", None, ""
        else:
            kind, value, system = str(answer.kind), answer.value, answer.system
        result.append(EnableWhen(question, operator, kind, value, system))
    return tuple(result)


def _max_length(raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    return None


def _read_items(
    raw_items: Any,
    contained: Mapping[str, Mapping[str, Any]],
    seen: set[str],
    depth: int = 0,
) -> tuple[QItem, ...]:
    items: list[QItem] = []
    if depth > 32:
        return ()
    for raw in raw_items if isinstance(raw_items, list) else []:
        if not isinstance(raw, Mapping):
            continue
        link_id, item_type = _str(raw.get("linkId")), _str(raw.get("type"))
        if not link_id or link_id in seen:
            continue
        seen.add(link_id)
        if item_type not in SUPPORTED_TYPES:
            log.info(
                "questionnaire item type %r not asked on the kiosk (link_id %s)", item_type[:20], link_id
            )
            continue
        options = _options(raw, contained) if item_type in ("choice", "open-choice") else ()
        items.append(
            QItem(
                link_id=link_id,
                type=item_type,
                text=_str(raw.get("text")),
                prefix=_str(raw.get("prefix")),
                required=_bool(raw.get("required")) and item_type != "display",
                repeats=_bool(raw.get("repeats")),
                read_only=_bool(raw.get("readOnly")),
                max_length=_max_length(raw.get("maxLength")),
                options=options,
                enable_when=_enable_when(raw.get("enableWhen")),
                enable_any=raw.get("enableBehavior") == "any",
                initial=_initial(raw, item_type, options) if item_type in QUESTION_TYPES else (),
                items=_read_items(raw.get("item"), contained, seen, depth + 1),
            )
        )
    return tuple(items)


def _index(items: tuple[QItem, ...], by_id: dict[str, QItem], parent_of: dict[str, str], parent: str) -> None:
    for item in items:
        by_id[item.link_id] = item
        if parent:
            parent_of[item.link_id] = parent
        _index(item.items, by_id, parent_of, item.link_id)


def read_questionnaire(resource: JSON) -> QuestionnaireDef:
    """Read a Questionnaire resource (plain JSON). Never raises for malformed content."""
    contained: dict[str, Mapping[str, Any]] = {}
    raw_contained = resource.get("contained")
    for entry in raw_contained if isinstance(raw_contained, list) else []:
        if isinstance(entry, Mapping) and entry.get("resourceType") == "ValueSet" and _str(entry.get("id")):
            contained[entry["id"]] = entry
    items = _read_items(resource.get("item"), contained, set())
    by_id: dict[str, QItem] = {}
    parent_of: dict[str, str] = {}
    _index(items, by_id, parent_of, "")
    qid = _str(resource.get("id"))
    url, version = _str(resource.get("url")), _str(resource.get("version"))
    canonical = (f"{url}|{version}" if version else url) if url else (f"Questionnaire/{qid}" if qid else "")
    title = _str(resource.get("title")) or _str(resource.get("name")) or qid
    return QuestionnaireDef(
        id=qid, url=canonical, title=title, items=items, by_link_id=by_id, parent_of=parent_of
    )
