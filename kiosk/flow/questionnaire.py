"""A generic FHIR R4 Questionnaire engine over plain JSON: pages, enableWhen, validation, the response tree.

``Form(read_questionnaire(resource), simple=False)`` keeps one patient's answers to one Questionnaire.
Pages: one top-level item per page (a group page shows its children); ``simple=True`` makes every question
(and display item) its own page. Pages whose item is disabled are skipped; page numbers count enabled pages.
Answers are kept per linkId as typed ``Answer``s; answers of items that are disabled stay in memory (the
patient may switch the item back on) but are never listed, validated or put into the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .qmodel import EnableWhen, QItem, QuestionnaireDef, read_questionnaire, same_answer
from .qvalues import InvalidAnswer, answer_to_input, compare, parse_value
from .types import JSON, Answer, ResponseItem

__all__ = ["Form", "Page", "read_questionnaire"]


@dataclass(frozen=True)
class Page:
    link_id: str  # the item at the top of the page
    with_children: bool  # normal mode: the item with all its children; simple mode: the item alone


def _all_pages(items: tuple[QItem, ...], simple: bool) -> tuple[Page, ...]:
    if not simple:
        return tuple(Page(item.link_id, True) for item in items)
    pages: list[Page] = []

    def walk(children: tuple[QItem, ...]) -> None:
        for item in children:
            if item.type != "group":
                pages.append(Page(item.link_id, False))
            walk(item.items)

    walk(items)
    return tuple(pages)


class Form:
    def __init__(self, definition: QuestionnaireDef, *, simple: bool = False) -> None:
        self.definition = definition
        self.simple = simple
        self.answers: dict[str, tuple[Answer, ...]] = {
            link_id: item.initial for link_id, item in definition.by_link_id.items() if item.initial
        }
        self._pages = _all_pages(definition.items, simple)
        self._at: int = 0  # index into _pages
        self._shown: frozenset[str] = frozenset()
        self._enabled: dict[str, bool] | None = None

    @classmethod
    def from_json(cls, resource: JSON, *, simple: bool = False) -> Form:
        return cls(read_questionnaire(resource), simple=simple)

    # -- enableWhen --------------------------------------------------------------------------------
    def _condition(self, ew: EnableWhen, enabled: Mapping[str, bool]) -> bool:
        # A disabled (or not yet known, i.e. cyclic) question counts as unanswered.
        answers = self.answers.get(ew.question, ()) if enabled.get(ew.question, False) else ()
        if ew.operator == "exists":
            return bool(answers) == (ew.value is True)
        if ew.operator == "!=":
            return not any(compare(a, ew, "=") for a in answers)
        return any(compare(a, ew, ew.operator) for a in answers)

    def _evaluate(self, link_id: str, enabled: Mapping[str, bool]) -> bool:
        item = self.definition.by_link_id[link_id]
        parent = self.definition.parent_of.get(link_id)
        if parent is not None and not enabled.get(parent, False):
            return False
        if not item.enable_when:
            return True
        results = (self._condition(ew, enabled) for ew in item.enable_when)
        return any(results) if item.enable_any else all(results)

    def _enabled_map(self) -> dict[str, bool]:
        """Every item's enabled state, dependencies first (iterative: any depth, cycles count as disabled)."""
        if self._enabled is not None:
            return self._enabled
        by_id, parent_of = self.definition.by_link_id, self.definition.parent_of
        enabled: dict[str, bool] = {}
        in_progress: set[str] = set()
        for root in by_id:
            stack: list[tuple[str, bool]] = [(root, False)]
            while stack:
                link_id, expanded = stack.pop()
                if link_id in enabled:
                    continue
                if expanded:
                    enabled[link_id] = self._evaluate(link_id, enabled)
                    in_progress.discard(link_id)
                    continue
                if link_id in in_progress:
                    continue  # reached again through a cycle
                in_progress.add(link_id)
                stack.append((link_id, True))
                deps = [parent_of[link_id]] if link_id in parent_of else []
                deps += [ew.question for ew in by_id[link_id].enable_when if ew.question in by_id]
                stack.extend((dep, False) for dep in deps if dep not in enabled and dep not in in_progress)
        self._enabled = enabled
        return enabled

    def is_enabled(self, link_id: str) -> bool:
        return self._enabled_map().get(link_id, False)

    def _changed(self) -> None:
        self._enabled = None

    def wipe(self) -> None:
        """Forget every answer (session reset)."""
        self.answers.clear()
        self._shown = frozenset()
        self._changed()

    # -- pages ---------------------------------------------------------------------------------------
    def _has_content(self, item: QItem) -> bool:
        if not self.is_enabled(item.link_id):
            return False
        if item.type != "group":
            return True
        return any(self._has_content(child) for child in item.items)

    def _page_visible(self, page: Page) -> bool:
        return self._has_content(self.definition.by_link_id[page.link_id])

    def visible_pages(self) -> list[Page]:
        return [page for page in self._pages if self._page_visible(page)]

    @property
    def page_count(self) -> int:
        return len(self.visible_pages())

    @property
    def page_index(self) -> int:
        """Index of the current page among the enabled pages (page_count when past the end)."""
        self._settle()
        return sum(1 for page in self._pages[: self._at] if self._page_visible(page))

    @property
    def current_page(self) -> Page | None:
        self._settle()
        return self._pages[self._at] if self._at < len(self._pages) else None

    def _settle(self) -> None:
        """Move forward off a page that is (or became) disabled."""
        while self._at < len(self._pages) and not self._page_visible(self._pages[self._at]):
            self._at += 1

    def first_page(self) -> bool:
        self._at = 0
        self._settle()
        return self._at < len(self._pages)

    def last_page(self) -> bool:
        for index in range(len(self._pages) - 1, -1, -1):
            if self._page_visible(self._pages[index]):
                self._at = index
                return True
        self._at = len(self._pages)
        return False

    def next_page(self) -> bool:
        """Go to the next enabled page; False (and past the end) when there is none."""
        self._at = min(self._at + 1, len(self._pages))
        self._settle()
        return self._at < len(self._pages)

    def previous_page(self) -> bool:
        """Go to the previous enabled page; False (and unmoved) when this is the first."""
        for index in range(min(self._at, len(self._pages)) - 1, -1, -1):
            if self._page_visible(self._pages[index]):
                self._at = index
                return True
        return False

    # -- rendering -----------------------------------------------------------------------------------
    def _page_items(self, page: Page) -> list[QItem]:
        """Every enabled item listed on the page, depth first."""
        result: list[QItem] = []

        def walk(item: QItem, children: bool) -> None:
            if not self.is_enabled(item.link_id) or not self._has_content(item):
                return
            result.append(item)
            if children:
                for child in item.items:
                    walk(child, True)

        walk(self.definition.by_link_id[page.link_id], page.with_children)
        return result

    def _render(self, item: QItem, children: bool) -> dict[str, Any]:
        rendered_children = (
            [self._render(child, True) for child in item.items if self._has_content(child)]
            if children
            else []
        )
        return {
            "link_id": item.link_id,
            "text": item.text,
            "prefix": item.prefix,
            "type": item.type,
            "required": item.required and item.answerable and not item.read_only,
            "repeats": item.repeats,
            "read_only": item.read_only,
            "max_length": item.max_length,
            "options": [{"key": o.key, "display": o.display} for o in item.options],
            "answers": [answer_to_input(item, a) for a in self.answers.get(item.link_id, ())],
            "items": rendered_children,
        }

    def render_page(self) -> list[dict[str, Any]]:
        """The current page's items (only enabled ones), as STEPS.md's Item dicts."""
        page = self.current_page
        if page is None:
            self._shown = frozenset()
            return []
        self._shown = frozenset(item.link_id for item in self._page_items(page))
        return [self._render(self.definition.by_link_id[page.link_id], page.with_children)]

    def new_items_since_render(self) -> bool:
        """True when answers switched on items of this page the patient has not seen yet."""
        page = self.current_page
        if page is None:
            return False
        return any(item.link_id not in self._shown for item in self._page_items(page))

    # -- answers -------------------------------------------------------------------------------------
    def apply(self, raw_answers: Any) -> dict[str, str]:
        """Store answers for items of the current page. Returns errors {link_id: key} for unusable values.

        ``raw_answers``: ``{link_id: [value, ...]}`` (a single value is taken as a one-element list). A
        link_id that is absent keeps its answers; an empty list clears them. Items that are not on the
        current page, read-only, display or group items are ignored.
        """
        errors: dict[str, str] = {}
        page = self.current_page
        if page is None or not isinstance(raw_answers, Mapping):
            return {"base": "invalid_input"} if not isinstance(raw_answers, Mapping) else {}
        on_page = {item.link_id for item in self._page_subtree(page)}
        for link_id, raw in raw_answers.items():
            if not isinstance(link_id, str) or link_id not in on_page:
                continue
            item = self.definition.by_link_id[link_id]
            if not item.is_question or item.read_only:
                continue
            values = raw if isinstance(raw, (list, tuple)) else [raw]
            parsed: list[Answer] = []
            try:
                for value in values[:100]:
                    answer = parse_value(item, value)
                    if answer is not None and not any(same_answer(answer, p) for p in parsed):
                        parsed.append(answer)
                if len(parsed) > 1 and not item.repeats:
                    raise InvalidAnswer("invalid_input")
            except InvalidAnswer as exc:
                errors[link_id] = exc.key
                continue
            if parsed:
                self.answers[link_id] = tuple(parsed)
            else:
                self.answers.pop(link_id, None)
        self._changed()
        return errors

    def _page_subtree(self, page: Page) -> list[QItem]:
        result: list[QItem] = []

        def walk(item: QItem) -> None:
            result.append(item)
            if page.with_children:
                for child in item.items:
                    walk(child)

        walk(self.definition.by_link_id[page.link_id])
        return result

    def validate_page(self) -> dict[str, str]:
        """Required answers on the current page (enabled items only)."""
        page = self.current_page
        if page is None:
            return {}
        errors: dict[str, str] = {}

        def answered(item: QItem) -> bool:
            if item.is_question and self.answers.get(item.link_id):
                return True
            return any(self.is_enabled(c.link_id) and answered(c) for c in item.items)

        def check(item: QItem, children: bool) -> None:
            if not self.is_enabled(item.link_id):
                return
            if item.required and not item.read_only:
                missing = not answered(item) if item.type == "group" else not self.answers.get(item.link_id)
                if missing and (item.type == "group" or item.answerable):
                    errors[item.link_id] = "required"
            # Children of an unanswered question cannot be answered in FHIR (they nest under answers).
            if children and (not item.is_question or self.answers.get(item.link_id)):
                for child in item.items:
                    check(child, True)

        check(self.definition.by_link_id[page.link_id], page.with_children)
        return errors

    # -- the response --------------------------------------------------------------------------------
    def response_items(self) -> tuple[ResponseItem, ...]:
        """The QuestionnaireResponse item tree: enabled items with answers only; groups only when filled."""

        def build(item: QItem) -> ResponseItem | None:
            if not self.is_enabled(item.link_id) or item.type == "display":
                return None
            answers = self.answers.get(item.link_id, ()) if item.is_question else ()
            if item.is_question and not answers:
                return None
            children = tuple(r for r in (build(c) for c in item.items) if r is not None)
            if item.type == "group" and not children:
                return None
            return ResponseItem(link_id=item.link_id, text=item.text, answers=answers, items=children)

        return tuple(r for r in (build(i) for i in self.definition.items) if r is not None)
