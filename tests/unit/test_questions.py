"""Typed questions: reading stored ones, an admin's lines, writing them back, and checking answers."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.services.questions import (
    ANSWER_MAX,
    CHOICE_MAX,
    CHOICES_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    Question,
    QuestionKind,
    clean_answer,
    parse_questions,
    question_of,
    questions_text,
    stored,
)

CHOICE = QuestionKind.CHOICE


def problem(text: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse_questions(text)
    assert list(caught.value.errors) == ["questions"]
    return caught.value.errors["questions"]


# --- stored questions ----------------------------------------------------------------------------


def test_a_plain_string_is_a_text_question_and_stays_one() -> None:
    assert question_of("Any injuries?") == Question("Any injuries?")
    assert stored(Question("Any injuries?")) == "Any injuries?"


def test_typed_questions_are_stored_as_mappings() -> None:
    agree = Question("Do you agree?", QuestionKind.YES_NO)
    heard = Question("How did you hear of us?", CHOICE, ("Friend", "Instagram"))
    assert stored(agree) == {"text": "Do you agree?", "type": "yes/no"}
    assert stored(heard) == {
        "text": "How did you hear of us?",
        "type": "choice",
        "choices": ["Friend", "Instagram"],
    }
    assert [question_of(stored(q)) for q in (agree, heard)] == [agree, heard]


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ({"text": "Born?", "type": "birthday"}, Question("Born?")),
        ({"text": "Born?", "type": ["date"]}, Question("Born?")),
        ({"text": "Born?"}, Question("Born?")),
        ({"type": "date"}, Question("", QuestionKind.DATE)),
        ({"text": "Pick", "type": "choice"}, Question("Pick")),
        ({"text": "Pick", "type": "choice", "choices": "a, b"}, Question("Pick")),
        (
            {"text": "Pick", "type": "choice", "choices": ["", " a ", "A", "a", 2]},
            Question("Pick", CHOICE, ("a", "A", "2")),
        ),
        (
            {"text": "Agree?", "type": "Yes / No", "choices": ["Yes"]},
            Question("Agree?", QuestionKind.YES_NO),
        ),
        ({"text": 5, "type": "number"}, Question("5", QuestionKind.NUMBER)),
        (42, Question("42")),
        (None, Question("None")),
    ],
)
def test_junk_in_stored_questions_is_tolerated(raw: object, read: Question) -> None:
    assert question_of(raw) == read


def test_stored_choices_a_select_cannot_offer_are_dropped() -> None:
    raw = {"text": "Pick", "type": "choice", "choices": ["x" * (CHOICE_MAX + 1), "ok", "fine"]}
    assert question_of(raw).choices == ("ok", "fine")
    many = {"text": "Pick", "type": "choice", "choices": [str(i) for i in range(80)]}
    assert len(question_of(many).choices) == CHOICES_MAX


# --- an admin's lines -----------------------------------------------------------------------------


def test_each_line_is_a_question_with_an_optional_type() -> None:
    text = """
        Any injuries?
        Tell us more [long]

        Do you agree to the waiver? [yes/no]
        How did you hear of us? [choice: Friend, Instagram, Walk-in]
        Date of birth [date]
        Years of practice [number]
    """
    assert parse_questions(text) == [
        Question("Any injuries?"),
        Question("Tell us more", QuestionKind.LONG),
        Question("Do you agree to the waiver?", QuestionKind.YES_NO),
        Question("How did you hear of us?", CHOICE, ("Friend", "Instagram", "Walk-in")),
        Question("Date of birth", QuestionKind.DATE),
        Question("Years of practice", QuestionKind.NUMBER),
    ]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Agree? [Yes/No]", QuestionKind.YES_NO),
        ("Agree? [yes / no]", QuestionKind.YES_NO),
        ("Agree? [YESNO]", QuestionKind.YES_NO),
        ("Agree?[ yes/no ]", QuestionKind.YES_NO),
        ("More [LONG]", QuestionKind.LONG),
        ("When [Date]", QuestionKind.DATE),
        ("How many [ number ]", QuestionKind.NUMBER),
        ("Name [text]", QuestionKind.TEXT),
    ],
)
def test_type_words_ignore_case_and_spaces(line: str, kind: QuestionKind) -> None:
    (question,) = parse_questions(line)
    assert question.kind is kind
    assert "[" not in question.text


def test_choice_options_are_trimmed_and_keep_their_case() -> None:
    (question,) = parse_questions("Studio? [Choice:  North Side ,south side,  Online]")
    assert question == Question("Studio?", CHOICE, ("North Side", "south side", "Online"))


def test_only_the_last_brackets_are_the_type() -> None:
    (question,) = parse_questions("Rate us [1 to 5] [number]")
    assert question == Question("Rate us [1 to 5]", QuestionKind.NUMBER)
    (kept,) = parse_questions("Rate us [1 to 5] [text]")
    assert kept == Question("Rate us [1 to 5]")
    assert parse_questions("Brackets [in the] middle") == [Question("Brackets [in the] middle")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Fine\nBorn? [birthday]", "Line 2: unknown type [birthday]; use one of text, long,"),
        ("Rate [1-5]", "or end the line with [text] to keep the brackets in the question"),
        ("Heard? [choice: Friend]", "Line 1: a choice question needs 2 to 50 options"),
        ("Heard? [choice]", "(this one has 0)"),
        ("Heard? [choice: a, , b]", "Line 1: an option is empty"),
        ("Heard? [choice: a, A]", "Line 1: the option 'A' is listed twice"),
        (f"Heard? [choice: a, {'b' * 76}]", "an option can be at most 75 characters"),
        ("\n\n[long]", "Line 3: the question is empty"),
        ("x" * 501, "Line 1: a question can be at most 500 characters (this one has 501)"),
        ("", "Write at least one question, one per line."),
        (" \n\t\n", "Write at least one question, one per line."),
    ],
)
def test_mistakes_name_the_line_and_what_to_fix(text: str, says: str) -> None:
    assert says in problem(text)


def test_choices_name_the_limits() -> None:
    options = ", ".join(f"o{i}" for i in range(CHOICES_MAX + 1))
    assert "2 to 50 options (this one has 51)" in problem(f"Pick [choice: {options}]")
    within = ", ".join(f"o{i}" for i in range(CHOICES_MAX))
    assert len(parse_questions(f"Pick [choice: {within}]")[0].choices) == CHOICES_MAX


def test_every_bad_line_is_reported_up_to_three() -> None:
    text = "\n".join(["ok", "a [x]", "b [y]", "c [z]", "d [w]", "e [v]"])
    said = problem(text)
    assert [f"Line {n}:" in said for n in range(2, 7)] == [True, True, True, False, False]
    assert said.endswith("(2 more lines to fix.)")


def test_at_most_fifty_questions() -> None:
    assert len(parse_questions("\n".join(f"Q{i}" for i in range(QUESTIONS_MAX)))) == QUESTIONS_MAX
    said = problem("\n".join(f"Q{i}" for i in range(QUESTIONS_MAX + 1)))
    assert (
        said == "A questionnaire can have at most 50 questions (this one has 51); split it in two."
    )


def test_questions_text_writes_each_type_back() -> None:
    questions = [
        Question("Any injuries?"),
        Question("Rate us [1 to 5]"),
        Question("Agree?", QuestionKind.YES_NO),
        Question("Heard?", CHOICE, ("Friend", "Walk-in")),
    ]
    assert questions_text(questions) == (
        "Any injuries?\nRate us [1 to 5] [text]\nAgree? [yes/no]\nHeard? [choice: Friend, Walk-in]"
    )


def _one_line(text: str) -> bool:
    return bool(text) and text.splitlines() == [text]


TEXTS = (
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=QUESTION_MAX)
    .map(str.strip)
    .filter(_one_line)
)
CHOICE_TEXTS = (
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters=",[]"), max_size=CHOICE_MAX)
    .map(str.strip)
    .filter(_one_line)
)
QUESTIONS = st.one_of(
    st.builds(Question, TEXTS, st.sampled_from([k for k in QuestionKind if k is not CHOICE])),
    st.builds(
        Question,
        TEXTS,
        st.just(CHOICE),
        st.lists(CHOICE_TEXTS, min_size=2, max_size=CHOICES_MAX, unique_by=str.casefold).map(tuple),
    ),
)


@given(st.lists(QUESTIONS, min_size=1, max_size=QUESTIONS_MAX))
@example([Question("[long]")])
@example([Question("x [", QuestionKind.LONG), Question("] [")])
@example([Question("a [choice: b, c]", QuestionKind.DATE)])
def test_questions_text_reads_back_as_the_same_questions(questions: list[Question]) -> None:
    assert parse_questions(questions_text(questions)) == questions
    assert [question_of(stored(q)) for q in questions] == questions


# --- answers ---------------------------------------------------------------------------------------


def ask(kind: QuestionKind, *choices: str) -> Question:
    return Question("Q?", kind, choices)


@pytest.mark.parametrize(
    ("question", "raw", "kept"),
    [
        (ask(QuestionKind.TEXT), "  Knee  ", "Knee"),
        (ask(QuestionKind.LONG), "Line one\r\nline two\x00", "Line one\nline two"),
        (ask(QuestionKind.YES_NO), "yes", "Yes"),
        (ask(QuestionKind.YES_NO), " NO ", "No"),
        (ask(CHOICE, "Friend", "Walk-in"), "walk-IN", "Walk-in"),
        (ask(QuestionKind.DATE), "2024-02-29", "2024-02-29"),
        (ask(QuestionKind.NUMBER), "12", "12"),
        (ask(QuestionKind.NUMBER), "-3.75", "-3.75"),
        (ask(QuestionKind.NUMBER), "007", "007"),
    ],
)
def test_answers_are_kept_in_their_canonical_form(question: Question, raw: str, kept: str) -> None:
    assert clean_answer(question, raw) == kept


@pytest.mark.parametrize("kind", list(QuestionKind))
def test_a_blank_answer_is_unanswered(kind: QuestionKind) -> None:
    assert clean_answer(ask(kind, "a", "b"), " \n\t ") is None


@pytest.mark.parametrize(
    ("question", "raw", "says"),
    [
        (ask(QuestionKind.YES_NO), "Maybe", "Answer Yes or No."),
        (ask(CHOICE, "Friend", "Walk-in"), "Google", "Choose one of: Friend, Walk-in."),
        (ask(CHOICE, *(f"{i:03d}" * 25 for i in range(50))), "x", "Choose one of the options"),
        (ask(QuestionKind.DATE), "17/05/1990", "Write a date as yyyy-mm-dd"),
        (ask(QuestionKind.DATE), "2023-02-29", "2023-02-29 is not a real date."),
        (ask(QuestionKind.DATE), "２０２４-01-01", "Write a date as yyyy-mm-dd"),
        (ask(QuestionKind.NUMBER), "twelve", "Write a number in digits"),
        (ask(QuestionKind.NUMBER), "1,000", "without units or commas"),
        (ask(QuestionKind.NUMBER), "5 years", "Write a number in digits"),
        (ask(QuestionKind.NUMBER), "+5", "Write a number in digits"),
        (ask(QuestionKind.NUMBER), "5.", "Write a number in digits"),
        (ask(QuestionKind.NUMBER), "١٢", "Write a number in digits"),
        (ask(QuestionKind.TEXT), "x" * (ANSWER_MAX + 1), "at most 3,000 characters"),
        (ask(QuestionKind.LONG), "x" * 4500, "(this one has 4,500)"),
    ],
)
def test_bad_answers_say_what_to_write(question: Question, raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        clean_answer(question, raw)


@given(st.sampled_from(list(QuestionKind)), st.text())
def test_a_clean_answer_is_clean_again(kind: QuestionKind, raw: str) -> None:
    question = ask(kind, "Friend", "Walk-in")
    try:
        kept = clean_answer(question, raw)
    except ValueError:
        return
    assert kept is None or clean_answer(question, kept) == kept
