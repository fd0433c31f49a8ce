"""A questionnaire's questions and their types: how they are stored, written and answered."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from core.errors import ValidationFailed
from core.formatting import counted
from core.text import clean_multiline

QUESTIONS_MAX = 50
QUESTION_MAX = 500
CHOICES_MIN = 2
CHOICES_MAX = 50
# A choice is an option of a Slack select, whose text holds at most 75 characters.
CHOICE_MAX = 75
ANSWER_MAX = 3000
# Lines reported at once when a pasted list has many problems.
_PROBLEMS_SHOWN = 3
# Longer lists of options are not repeated in an error under the field.
_CHOICES_LISTED = 300

# The last bracketed part of a line; the text before it may hold brackets of its own.
_SUFFIX = re.compile(r"(?P<text>.*?)\s*\[(?P<type>[^\[\]]*)\]", re.DOTALL)
_CHOICE = re.compile(r"choices?\s*(?::(?P<options>.*))?", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class QuestionKind(StrEnum):
    """What kind of answer a question takes; the value is how files and admins write it."""

    TEXT = "text"
    LONG = "long"
    YES_NO = "yes/no"
    CHOICE = "choice"
    DATE = "date"
    NUMBER = "number"


_KIND_WORDS = {kind.value: kind for kind in QuestionKind} | {"yesno": QuestionKind.YES_NO}
_TYPE_NAMES = "text, long, yes/no, choice: A, B, …, date, number"


@dataclass(frozen=True)
class Question:
    """One question; `choices` only for CHOICE questions."""

    text: str
    kind: QuestionKind = QuestionKind.TEXT
    choices: tuple[str, ...] = ()


def question_of(raw: object) -> Question:
    """A stored question: a plain string is a text question, a mapping a typed one."""
    if not isinstance(raw, dict):
        return Question(raw if isinstance(raw, str) else str(raw))
    text = raw.get("text")
    written = raw.get("type")
    kind = (kind_of(written) if isinstance(written, str) else None) or QuestionKind.TEXT
    given = raw.get("choices")
    # Only options a select can offer: a stored list edited by hand may hold anything.
    offered = (str(c).strip() for c in given) if isinstance(given, list) else iter(())
    choices = tuple(dict.fromkeys(c for c in offered if c and len(c) <= CHOICE_MAX))
    if kind is not QuestionKind.CHOICE or not choices:
        # A choice question whose options are lost can still be answered in words.
        kind = QuestionKind.TEXT if kind is QuestionKind.CHOICE else kind
        choices = ()
    return Question("" if text is None else str(text), kind, choices[:CHOICES_MAX])


def stored(question: Question) -> str | dict[str, Any]:
    """How `question` is kept in JSON: text questions stay plain strings, as before types."""
    if question.kind is QuestionKind.TEXT:
        return question.text
    found: dict[str, Any] = {"text": question.text, "type": question.kind.value}
    if question.kind is QuestionKind.CHOICE:
        found["choices"] = list(question.choices)
    return found


def kind_of(word: str) -> QuestionKind | None:
    """The kind a type word names ('Yes / No' and 'yesno' too), or None."""
    return _KIND_WORDS.get(re.sub(r"\s+", "", word.lower()))


def question_problem(question: Question) -> str | None:
    """What is wrong with `question` (its text or its choices), or None."""
    if not question.text:
        return "the question is empty"
    if question.text.splitlines() != [question.text]:
        return "write the question on one line"
    if len(question.text) > QUESTION_MAX:
        return (
            f"a question can be at most {QUESTION_MAX} characters "
            f"(this one has {len(question.text):,})"
        )
    if question.kind is QuestionKind.CHOICE:
        return _choices_problem(question.choices)
    return None


def _choices_problem(choices: Sequence[str]) -> str | None:
    if not CHOICES_MIN <= len(choices) <= CHOICES_MAX:
        return (
            f"a choice question needs {CHOICES_MIN} to {CHOICES_MAX} options "
            f"(this one has {len(choices)})"
        )
    seen: set[str] = set()
    for choice in choices:
        if not choice:
            return "an option is empty; remove it"
        if len(choice) > CHOICE_MAX:
            return f"an option can be at most {CHOICE_MAX} characters ({choice[:20]!r}… is longer)"
        if any(mark in choice for mark in ",[]") or choice.splitlines() != [choice]:
            return f"an option cannot hold a comma, a square bracket or a line break ({choice!r})"
        if choice.casefold() in seen:
            return f"the option {choice!r} is listed twice"
        seen.add(choice.casefold())
    return None


def _parse_line(line: str) -> Question | str:
    """The question on one line, or what is wrong with it."""
    match = _SUFFIX.fullmatch(line)
    if match is None:
        return Question(line)
    text, written = match["text"], match["type"].strip()
    choice = _CHOICE.fullmatch(written)
    if choice is not None:
        options = choice["options"]
        choices = () if options is None else tuple(o.strip() for o in options.split(","))
        return Question(text, QuestionKind.CHOICE, choices)
    kind = kind_of(written)
    if kind is None:
        return (
            f"unknown type [{written}]; use one of {_TYPE_NAMES}, "
            "or end the line with [text] to keep the brackets in the question"
        )
    return Question(text, kind)


def parse_questions(text: str) -> list[Question]:
    """An admin's list, one question per line with an optional type such as `[yes/no]`."""
    questions: list[Question] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _parse_line(line.strip())
        problem = found if isinstance(found, str) else question_problem(found)
        if problem is not None:
            problems.append(f"Line {number}: {problem}.")
        elif isinstance(found, Question):
            questions.append(found)
    if problems:
        more = len(problems) - _PROBLEMS_SHOWN
        tail = [f"({counted(more, 'more line', 'more lines')} to fix.)"] if more > 0 else []
        raise ValidationFailed({"questions": " ".join(problems[:_PROBLEMS_SHOWN] + tail)})
    if not questions:
        raise ValidationFailed({"questions": "Write at least one question, one per line."})
    if len(questions) > QUESTIONS_MAX:
        raise ValidationFailed(
            {
                "questions": f"A questionnaire can have at most {QUESTIONS_MAX} questions "
                f"(this one has {len(questions)}); split it in two."
            }
        )
    return questions


def questions_text(questions: Sequence[Question]) -> str:
    """The lines `parse_questions` reads back as `questions`, to edit them."""
    lines = []
    for question in questions:
        if question.kind is QuestionKind.CHOICE:
            lines.append(f"{question.text} [choice: {', '.join(question.choices)}]")
        elif question.kind is not QuestionKind.TEXT or _SUFFIX.fullmatch(question.text):
            # A text question ending in brackets says so, or they would be read as its type.
            lines.append(f"{question.text} [{question.kind.value}]")
        else:
            lines.append(question.text)
    return "\n".join(lines)


def clean_answer(question: Question, raw: str) -> str | None:
    """The answer as stored (None: unanswered); ValueError says what is wrong with it."""
    text = clean_multiline(raw)
    if not text:
        return None
    if len(text) > ANSWER_MAX:
        raise ValueError(
            f"An answer can be at most {ANSWER_MAX:,} characters (this one has {len(text):,})."
        )
    kind = question.kind
    if kind is QuestionKind.YES_NO:
        if text.lower() not in ("yes", "no"):
            raise ValueError("Answer Yes or No.")
        return text.capitalize()
    if kind is QuestionKind.CHOICE:
        return _choice(question.choices, text)
    if kind is QuestionKind.DATE:
        return _date(text)
    if kind is QuestionKind.NUMBER and not _NUMBER.fullmatch(text):
        raise ValueError("Write a number in digits, such as 12 or -3.5, without units or commas.")
    return text


def _choice(choices: Sequence[str], text: str) -> str:
    for choice in choices:
        if choice.casefold() == text.casefold():
            return choice
    listed = ", ".join(choices)
    if len(listed) > _CHOICES_LISTED:
        raise ValueError("Choose one of the options offered.")
    raise ValueError(f"Choose one of: {listed}.")


def _date(text: str) -> str:
    if not _DATE.fullmatch(text):
        raise ValueError("Write a date as yyyy-mm-dd, such as 2026-03-14.")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text} is not a real date.") from None
