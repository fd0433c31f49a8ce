"""The Questionnaires tab (cards), a response's questions and answers, recording answers, assigning."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from bot.views.blocks import (
    Block,
    button,
    clip,
    context,
    escape,
    form_modal,
    modal,
    option,
    section,
    warning,
)
from bot.views.inputs import (
    TextField,
    date_picker,
    input_block,
    radio_buttons,
    static_select,
    text_input,
)
from bot.views.origin import DetailsState
from bot.views.payload import DB_INT_MAX, answered_in, as_row_id, chosen_in, read_metadata
from bot.views.tabs import (
    ReturnTo,
    local_date,
    tab_listing,
)
from core.models import QuestionnaireStatus
from core.services.paging import Page
from core.services.questionnaires import QuestionnaireDetail, QuestionnaireRow, TemplateRow
from core.services.questions import ANSWER_MAX, Question, QuestionKind, clean_answer

ASSIGN_ACTION = "questionnaire.assign"
VIEW_ACTION = "questionnaire.view"
DETAILS_CALLBACK = "questionnaire.details"
ANSWERS_CALLBACK = "questionnaire_answers.submit"
ANSWER_ACTION = "questionnaire_answers.answer"
ASSIGN_CALLBACK = "questionnaire_assign.submit"
# Block ids are the service's field names, so its errors land under the right input.
TEMPLATE_BLOCK = "template"
TEMPLATE_ACTION = "questionnaire_assign.template"
# A modal holds 100 blocks: one per question plus a few around them.
MAX_QUESTIONS = 95
MAX_TEMPLATES = 100
YES_NO = ("Yes", "No")


class QuestionnaireMeta(ReturnTo):
    """Which response a questionnaire modal shows, from which version, over which details view."""

    response_id: int = Field(ge=1, le=DB_INT_MAX)
    updated_at: datetime | None = None

    @classmethod
    def parse(cls, raw: object) -> QuestionnaireMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


class AssignMeta(ReturnTo):
    """Assign Questionnaire over a details view."""

    @classmethod
    def parse(cls, raw: object) -> AssignMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def answer_block(index: int) -> str:
    """The block_id of question `index`'s answer (0-based), as the service names its errors."""
    return f"answer_{index}"


def _status(row: QuestionnaireRow) -> str:
    icon = ":white_check_mark:" if row.status is QuestionnaireStatus.COMPLETED else ":hourglass:"
    return f"{icon} {row.status.value.title()} · {row.answered} of {row.total} answered"


def _card(row: QuestionnaireRow, timezone: str) -> Block:
    text = (
        f"*{escape(clip(row.name, 200))}* · #{row.id}\n"
        f"{_status(row)}\n"
        f"Created {local_date(row.created_at, timezone)} · "
        f"Updated {local_date(row.updated_at, timezone)}"
    )
    return section(
        text,
        accessory=button("View Details", VIEW_ACTION, value=str(row.id)),
        block_id=f"questionnaire_{row.id}",
    )


def questionnaires_tab(
    state: DetailsState, page: Page[QuestionnaireRow], *, timezone: str
) -> list[Block]:
    """Assigned questionnaires, newest first, as cards; Assign Questionnaire beside the count."""
    assign = button("Assign Questionnaire", ASSIGN_ACTION, value="assign")
    return tab_listing(state, page, lambda row: [_card(row, timezone)], assign)


def _more(detail: QuestionnaireDetail) -> list[Block]:
    hidden = len(detail.questions) - MAX_QUESTIONS
    if hidden <= 0:
        return []
    return [context(f"…and {hidden:,} more questions, which only the customer portal shows.")]


def questionnaire_details(
    detail: QuestionnaireDetail, meta: QuestionnaireMeta, *, timezone: str
) -> dict[str, Any]:
    """Every question with its answer; submitting turns the modal into the answer form."""
    row = detail.row
    blocks: list[Block] = [
        section(f"*{escape(clip(row.name, 200))}* · #{row.id}\n{_status(row)}"),
        context(
            f"Created {local_date(row.created_at, timezone)} · "
            f"Updated {local_date(row.updated_at, timezone)}"
        ),
    ]
    for number, (question, answer) in enumerate(
        zip(detail.questions[:MAX_QUESTIONS], detail.answers, strict=False), start=1
    ):
        shown = escape(clip(answer, 2000)) if answer is not None else "_Not answered yet_"
        blocks.append(section(f"*{number}. {escape(clip(question.text, 900))}*\n{shown}"))
    blocks.extend(_more(detail))
    return form_modal(
        "Questionnaire",
        blocks,
        meta,
        callback_id=DETAILS_CALLBACK,
        submit="Record answers",
        close="Close",
    )


def _fits(question: Question, answer: str | None) -> bool:
    """Whether the input for `question`'s kind can show `answer` as it is."""
    try:
        return answer is None or clean_answer(question, answer) == answer
    except ValueError:
        return False


def _answer_input(index: int, question: Question, answer: str | None) -> Block:
    """Question `index`'s input for its kind, holding `answer`; blank leaves it unanswered."""
    block_id, label, kind = answer_block(index), f"{index + 1}. {question.text}", question.kind
    chosen = option(answer, answer) if answer else None
    if not _fits(question, answer):
        # Stored by other means than this form: a box keeps it, so saving cannot drop it.
        kind = QuestionKind.LONG
    if kind is QuestionKind.YES_NO:
        element = radio_buttons(ANSWER_ACTION, [option(o, o) for o in YES_NO], chosen=chosen)
    elif kind is QuestionKind.CHOICE:
        offered = [option(choice, choice) for choice in question.choices]
        element = static_select(ANSWER_ACTION, offered, placeholder="Choose one", chosen=chosen)
    elif kind is QuestionKind.DATE:
        picked = date.fromisoformat(answer) if answer else None
        element = date_picker(ANSWER_ACTION, initial=picked, placeholder="Pick a date")
    else:
        field = TextField(
            block_id,
            label,
            ANSWER_ACTION,
            placeholder="A number, such as 12 or 3.5" if kind is QuestionKind.NUMBER else "",
            optional=True,
            max_length=ANSWER_MAX,
            multiline=kind is QuestionKind.LONG or "\n" in (answer or ""),
        )
        return text_input(field, answer or "")
    return input_block(block_id, label, element, optional=True)


def answers_form(
    detail: QuestionnaireDetail, meta: QuestionnaireMeta, *, problem: str = ""
) -> dict[str, Any]:
    """One box per question, holding the current answer; blank leaves it unanswered."""
    blocks = [
        *warning(problem),
        context(
            f"Recording answers to *{escape(clip(detail.row.name, 200))}* on the customer's "
            "behalf. Leave a question blank to leave it unanswered."
        ),
    ]
    for index, question in enumerate(detail.questions[:MAX_QUESTIONS]):
        answer = detail.answers[index] if index < len(detail.answers) else None
        blocks.append(_answer_input(index, question, answer))
    blocks.extend(_more(detail))
    return form_modal(
        "Record answers", blocks, meta, callback_id=ANSWERS_CALLBACK, submit="Save answers"
    )


def submitted_answers(state_values: dict[str, Any], detail: QuestionnaireDetail) -> list[str]:
    """An answer for every question: what was typed, or as before for questions not shown."""
    answers: list[str] = []
    for index in range(len(detail.questions)):
        before = detail.answers[index] if index < len(detail.answers) else None
        if index >= MAX_QUESTIONS or not isinstance(state_values.get(answer_block(index)), dict):
            answers.append(before or "")
            continue
        answers.append(answered_in(state_values, answer_block(index), ANSWER_ACTION))
    return answers


def assign_form(templates: list[TemplateRow], meta: AssignMeta) -> dict[str, Any]:
    """Pick a questionnaire to assign; says what to do when the workspace has none."""
    if not templates:
        blocks = [
            section(
                "There are no questionnaires to assign yet. An admin adds them with "
                "`customer-bot catalog import FILE` (see the README)."
            )
        ]
        return modal("Assign Questionnaire", blocks, callback_id=ASSIGN_CALLBACK)
    options = [
        option(f"{t.name} ({t.question_count} questions)", str(t.id))
        for t in templates[:MAX_TEMPLATES]
    ]
    select = {
        "type": "static_select",
        "action_id": TEMPLATE_ACTION,
        "placeholder": {"type": "plain_text", "text": "Choose a questionnaire"},
        "options": options,
    }
    blocks = [
        section("The customer sees it as pending in the customer portal and answers it there."),
        {
            "type": "input",
            "block_id": TEMPLATE_BLOCK,
            "label": {"type": "plain_text", "text": "Questionnaire"},
            "element": select,
        },
    ]
    return form_modal(
        "Assign Questionnaire", blocks, meta, callback_id=ASSIGN_CALLBACK, submit="Assign"
    )


def submitted_template(state_values: dict[str, Any]) -> int | None:
    """The chosen template's id, or None."""
    return as_row_id(chosen_in(state_values, TEMPLATE_BLOCK, TEMPLATE_ACTION))
