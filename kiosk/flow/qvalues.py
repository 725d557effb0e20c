"""Answer values of the questionnaire engine: parse what the UI sends, render it back, compare for enableWhen.

Input values (STEPS.md, forms): string/text → str; integer → int or digit str; decimal → str/int/float;
date → "YYYY-MM-DD"; boolean → bool; choice → an option key; open-choice → an option key or {"other": str}
(a plain str when the item has no options). Empty values ("", None, {"other": ""}) mean "no answer".
Stored kinds: STRING str, INTEGER int, DECIMAL decimal.Decimal, DATE datetime.date, BOOLEAN bool,
CODING code str (system and display filled). Choices keep the option's own Answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .qmodel import EnableWhen, QItem, same_answer
from .types import Answer, AnswerKind

_INT = re.compile(r"[+-]?[0-9]{1,10}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # FHIR integer is 32-bit signed
_MAX_TEXT = 10_000


class InvalidAnswer(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _text(item: QItem, value: str) -> Answer | None:
    value = value.strip()
    if not value:
        return None
    if len(value) > _MAX_TEXT or (item.max_length is not None and len(value) > item.max_length):
        raise InvalidAnswer("too_long")
    return Answer(AnswerKind.STRING, value)


def _integer(value: Any) -> Answer | None:
    if isinstance(value, bool):
        raise InvalidAnswer("invalid_integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _INT.fullmatch(text):
            raise InvalidAnswer("invalid_integer")
        number = int(text)
    else:
        raise InvalidAnswer("invalid_integer")
    if not _INT_MIN <= number <= _INT_MAX:
        raise InvalidAnswer("invalid_integer")
    return Answer(AnswerKind.INTEGER, number)


def _decimal(value: Any) -> Answer | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidAnswer("invalid_decimal")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidAnswer("invalid_decimal")
    text = value.strip() if isinstance(value, str) else repr(value)
    if not text:
        return None
    if len(text) > 40 or not text.isascii():
        raise InvalidAnswer("invalid_decimal")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidAnswer("invalid_decimal") from None
    if not number.is_finite() or (number != 0 and abs(number.adjusted()) > 20):
        raise InvalidAnswer("invalid_decimal")
    return Answer(AnswerKind.DECIMAL, number)


def _date(value: Any) -> Answer | None:
    if not isinstance(value, str):
        raise InvalidAnswer("invalid_date")
    text = value.strip()
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise InvalidAnswer("invalid_date")
    try:
        return Answer(AnswerKind.DATE, date.fromisoformat(text))
    except ValueError:
        raise InvalidAnswer("invalid_date") from None


def _choice(item: QItem, value: Any) -> Answer | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        option = next((o for o in item.options if o.key == value), None)
        if option is not None:
            return option.answer
        if item.type == "open-choice" and not item.options:
            return _text(item, value)
        raise InvalidAnswer("invalid_choice")
    if item.type == "open-choice" and isinstance(value, Mapping) and set(value) == {"other"}:
        other = value["other"]
        if other is None:
            return None
        if not isinstance(other, str):
            raise InvalidAnswer("invalid_input")
        return _text(item, other)
    raise InvalidAnswer("invalid_choice")


def parse_value(item: QItem, value: Any) -> Answer | None:
    """One input value → a typed Answer, None for "no answer", or InvalidAnswer(key)."""
    if value is None:
        return None
    kind = item.type
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise InvalidAnswer("invalid_input")
        return _text(item, value)
    if kind == "integer":
        return _integer(value)
    if kind == "decimal":
        return _decimal(value)
    if kind == "date":
        return _date(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidAnswer("invalid_choice")
        return Answer(AnswerKind.BOOLEAN, value)
    if kind in ("choice", "open-choice"):
        return _choice(item, value)
    raise InvalidAnswer("invalid_input")


def answer_to_input(item: QItem, answer: Answer) -> Any:
    """A stored Answer in the shape the UI sends (option key, {"other": str}, bool, int, str)."""
    if item.type in ("choice", "open-choice"):
        option = next((o for o in item.options if same_answer(o.answer, answer)), None)
        if option is not None:
            return option.key
        if item.options:
            return {"other": str(answer.value)}
        return str(answer.value)
    if answer.kind == AnswerKind.DATE:
        return answer.value.isoformat()
    if answer.kind == AnswerKind.DECIMAL:
        return str(answer.value)
    return answer.value


def _number(answer: Answer) -> Decimal | None:
    if answer.kind in (AnswerKind.INTEGER, AnswerKind.DECIMAL) and not isinstance(answer.value, bool):
        return Decimal(answer.value)
    return None


def compare(answer: Answer, ew: EnableWhen, operator: str) -> bool:
    """Does one answer satisfy ``answer <operator> ew.value``? Mismatched types never do."""
    left: Any
    right: Any
    if ew.kind == "coding":
        if answer.kind != AnswerKind.CODING or operator not in ("=", "!="):
            return False
        equal = bool(answer.value == ew.value) and (
            not ew.system or not answer.system or ew.system == answer.system
        )
        return equal if operator == "=" else not equal
    if ew.kind == "boolean":
        if answer.kind != AnswerKind.BOOLEAN or operator not in ("=", "!="):
            return False
        return bool(answer.value == ew.value) == (operator == "=")
    if ew.kind in ("integer", "decimal"):
        left = _number(answer)
        right = Decimal(ew.value) if ew.value is not None else None
    elif ew.kind == "date":
        left = answer.value if answer.kind == AnswerKind.DATE else None
        right = ew.value
    elif ew.kind == "string":
        left = answer.value if answer.kind == AnswerKind.STRING else None
        right = ew.value
    else:
        return False
    if left is None or right is None:
        return False
    if operator == "=":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if operator == ">":
        return bool(left > right)
    if operator == "<":
        return bool(left < right)
    if operator == ">=":
        return bool(left >= right)
    if operator == "<=":
        return bool(left <= right)
    return False
