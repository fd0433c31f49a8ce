"""Questionnaires assigned to a customer and their answers (the Questionnaires tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Customer, QuestionnaireResponse, QuestionnaireStatus, QuestionnaireTemplate
from core.services import history
from core.services.customers import find_customer, load_for_change, lock_owner
from core.services.paging import Page
from core.services.questions import Question, clean_answer, question_of
from core.services.tabs import fetch_customer_page

QUESTIONNAIRE_ASSIGNED = "questionnaire assigned"
ANSWERS_RECORDED = "questionnaire answers recorded"


@dataclass(frozen=True)
class TemplateRow:
    """A questionnaire that can be assigned."""

    id: int
    name: str
    question_count: int


@dataclass(frozen=True)
class QuestionnaireRow:
    """One card of the tab: name, ID, status, dates and 'N of M answered'."""

    id: int
    name: str
    status: QuestionnaireStatus
    created_at: datetime
    updated_at: datetime
    answered: int
    total: int


@dataclass(frozen=True)
class QuestionnaireDetail:
    """Every question, with its type, and its answer (None while unanswered)."""

    row: QuestionnaireRow
    customer_uid: str
    questions: list[Question]
    answers: list[str | None]


def _answers(response: QuestionnaireResponse) -> list[str | None]:
    """One answer or None per question, whatever length the stored list has."""
    stored = list(response.answers)
    return [
        str(stored[i]) if i < len(stored) and stored[i] is not None else None
        for i in range(len(response.questions))
    ]


def _row(response: QuestionnaireResponse) -> QuestionnaireRow:
    return QuestionnaireRow(
        id=response.id,
        name=response.name,
        status=response.status,
        created_at=response.created_at,
        updated_at=response.updated_at,
        answered=sum(answer is not None for answer in _answers(response)),
        total=len(response.questions),
    )


def _detail(response: QuestionnaireResponse, customer_uid: str) -> QuestionnaireDetail:
    return QuestionnaireDetail(
        row=_row(response),
        customer_uid=customer_uid,
        questions=[question_of(question) for question in response.questions],
        answers=_answers(response),
    )


def list_templates(uow: UnitOfWork, actor: Actor) -> list[TemplateRow]:
    """The workspace's questionnaires still in use by name, for the Assign Questionnaire picker."""
    templates = uow.session.scalars(
        select(QuestionnaireTemplate)
        .where(
            QuestionnaireTemplate.team_id == actor.team_id,
            QuestionnaireTemplate.archived.is_(False),
        )
        .order_by(QuestionnaireTemplate.name, QuestionnaireTemplate.id)
    )
    return [TemplateRow(t.id, t.name, len(t.questions)) for t in templates]


def assign_questionnaire(
    uow: UnitOfWork, actor: Actor, uid: str, template_id: int
) -> QuestionnaireRow:
    """Assign a template to customer `uid` as a pending questionnaire with no answers yet."""
    customer = load_for_change(uow, actor, uid)
    template = uow.session.scalars(
        select(QuestionnaireTemplate).where(
            QuestionnaireTemplate.id == template_id, QuestionnaireTemplate.team_id == actor.team_id
        )
    ).first()
    if template is None:
        raise NotFound("That questionnaire no longer exists; pick another one.")
    if template.archived:
        raise ValidationFailed(
            {"template": f"{template.name} is archived; pick another questionnaire."}
        )
    if not template.questions:
        raise ValidationFailed(
            {"template": f"{template.name} has no questions yet; add some to it first."}
        )
    now = uow.now()
    response = QuestionnaireResponse(
        team_id=actor.team_id,
        customer_id=customer.id,
        template_id=template.id,
        name=template.name,
        # Stored as they are, types included, so later edits of the template leave it alone.
        questions=list(template.questions),
        answers=[None] * len(template.questions),
        status=QuestionnaireStatus.PENDING,
        assigned_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(response)
    uow.session.flush()
    history.record(
        uow,
        actor.user_id,
        customer,
        QUESTIONNAIRE_ASSIGNED,
        detail=f"{response.name} (#{response.id}), {len(response.questions)} questions",
    )
    return _row(response)


def _query(actor: Actor, response_id: int, uid: str | None) -> Select[QuestionnaireResponse, str]:
    query = (
        select(QuestionnaireResponse, Customer.uid)
        .join(Customer, Customer.id == QuestionnaireResponse.customer_id)
        .where(
            QuestionnaireResponse.id == response_id,
            QuestionnaireResponse.team_id == actor.team_id,
        )
    )
    if uid is not None:
        query = query.where(Customer.uid == uid)
    return query.execution_options(populate_existing=True)


def _find(
    uow: UnitOfWork, actor: Actor, response_id: int, uid: str | None
) -> tuple[QuestionnaireResponse, str]:
    found = uow.session.execute(_query(actor, response_id, uid)).first()
    if found is None:
        raise NotFound(f"Questionnaire #{response_id} no longer exists here.")
    return found


def get_questionnaire(
    uow: UnitOfWork, actor: Actor, response_id: int, *, uid: str | None = None
) -> QuestionnaireDetail:
    """Every question of an assigned questionnaire with its answer."""
    response, customer_uid = _find(uow, actor, response_id, uid)
    return _detail(response, customer_uid)


def _clean_answers(raw: list[str], questions: list[Question]) -> list[str | None]:
    if len(raw) != len(questions):
        raise ValidationFailed(
            {
                "answers": f"This questionnaire has {len(questions)} questions but {len(raw)} "
                "answers were sent; reopen it and try again."
            }
        )
    cleaned: list[str | None] = []
    errors: dict[str, str] = {}
    for index, (question, answer) in enumerate(zip(questions, raw, strict=True)):
        try:
            cleaned.append(clean_answer(question, answer))
        except ValueError as exc:
            errors[f"answer_{index}"] = str(exc)
            cleaned.append(None)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def record_answers(
    uow: UnitOfWork,
    actor: Actor,
    response_id: int,
    answers: list[str],
    *,
    uid: str | None = None,
    expected_updated_at: datetime | None = None,
) -> QuestionnaireDetail:
    """Record answers on the customer's behalf (blank: unanswered); complete once all are in."""
    response, customer = lock_owner(uow, lambda: _find(uow, actor, response_id, uid)[0])
    if expected_updated_at is not None and response.updated_at != expected_updated_at:
        raise Conflict(
            f"{response.name} was updated meanwhile; reopen it to see the latest answers.",
            changed_at=response.updated_at,
        )
    questions = [question_of(question) for question in response.questions]
    before = _answers(response)
    after = _clean_answers(answers, questions)
    changes = {
        f"Q{number}: {history.clip(question.text, 60)}": [
            None if old is None else history.clip(old),
            None if new is None else history.clip(new),
        ]
        for number, (question, old, new) in enumerate(
            zip(questions, before, after, strict=True), start=1
        )
        if old != new
    }
    if not changes:
        return _detail(response, customer.uid)
    response.answers = after
    complete = all(answer is not None for answer in after)
    response.status = QuestionnaireStatus.COMPLETED if complete else QuestionnaireStatus.PENDING
    response.updated_at = uow.now()
    row = _row(response)
    history.record(
        uow,
        actor.user_id,
        customer,
        ANSWERS_RECORDED,
        changes=changes,
        detail=f"{response.name} (#{response.id}) on the customer's behalf: "
        f"{row.answered} of {row.total} answered",
    )
    uow.session.flush()
    return _detail(response, customer.uid)


def list_questionnaires(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    *,
    query: str = "",
    page: int = 1,
    page_size: int = 5,
) -> Page[QuestionnaireRow]:
    """A customer's questionnaires, newest first; `query` matches the name or the ID."""
    customer = find_customer(uow, actor, uid)
    responses, total, page, page_size = fetch_customer_page(
        uow,
        QuestionnaireResponse,
        customer.id,
        QuestionnaireResponse.name,
        query,
        page=page,
        page_size=page_size,
    )
    return Page([_row(response) for response in responses], total, page, page_size)
