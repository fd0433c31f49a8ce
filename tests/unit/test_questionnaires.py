"""Questionnaires on SQLite and PostgreSQL: assigning, answering on their behalf, tenancy."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import QuestionnaireResponse, QuestionnaireStatus, QuestionnaireTemplate
from core.services.account import list_history
from core.services.customers import CustomerInput, CustomerRecord, create_customer
from core.services.questionnaires import (
    QuestionnaireRow,
    TemplateRow,
    assign_questionnaire,
    get_questionnaire,
    list_questionnaires,
    list_templates,
    record_answers,
)
from core.services.questions import ANSWER_MAX, Question, QuestionKind
from core.services.workspaces import ensure_workspace
from tests.conftest import MutableClock

T = TypeVar("T")
_serial = itertools.count(1)
HEALTH = ["Any injuries?", "Any medication?", "Emergency contact?"]


def run(db: Database, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.unit_of_work() as uow:
        return action(uow, *args, **kwargs)


def customer(db: Database, actor: Actor, first: str = "Ada") -> CustomerRecord:
    data = CustomerInput(
        first_name=first,
        last_name="Lovelace",
        email=f"quest{next(_serial)}@example.com",
        mobile="+44 7700 900123",
    )
    return run(db, create_customer, actor, data, send_welcome=False)


def template(
    db: Database, team_id: str, name: str, questions: list[Any], *, archived: bool = False
) -> int:
    with db.unit_of_work() as uow:
        ensure_workspace(uow, team_id)
        row = QuestionnaireTemplate(
            team_id=team_id,
            key=f"t{next(_serial)}",
            name=name,
            questions=list(questions),
            archived=archived,
        )
        uow.session.add(row)
        uow.session.flush()
        return row.id


def response_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(QuestionnaireResponse)) or 0


def last_history(db: Database, actor: Actor, uid: str) -> tuple[str, dict[str, Any], str]:
    row = run(db, list_history, actor, uid).rows[0]
    return row.action, row.changes, row.detail


# --- templates and assigning -------------------------------------------------------------------


def test_templates_are_the_workspaces_own_sorted_by_name(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    waiver = template(db, staff.team_id, "Waiver", ["Do you agree?"])
    health = template(db, staff.team_id, "Health form", HEALTH)
    template(db, other_tenant.team_id, "Their form", ["Hidden?"])
    assert run(db, list_templates, staff) == [
        TemplateRow(health, "Health form", 3),
        TemplateRow(waiver, "Waiver", 1),
    ]


def test_archived_templates_are_not_offered_or_assigned(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    health = template(db, staff.team_id, "Health form", HEALTH)
    old = template(db, staff.team_id, "Old waiver", ["Do you agree?"], archived=True)
    assert run(db, list_templates, staff) == [TemplateRow(health, "Health form", 3)]
    with pytest.raises(ValidationFailed) as caught:
        run(db, assign_questionnaire, staff, ada.uid, old)
    assert caught.value.errors == {
        "template": "Old waiver is archived; pick another questionnaire."
    }
    assert response_count(db) == 0


def test_assigning_creates_a_pending_questionnaire_with_no_answers(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    health = template(db, staff.team_id, "Health form", HEALTH)
    row = run(db, assign_questionnaire, staff, ada.uid, health)
    assert row == QuestionnaireRow(
        id=row.id,
        name="Health form",
        status=QuestionnaireStatus.PENDING,
        created_at=clock.current,
        updated_at=clock.current,
        answered=0,
        total=3,
    )
    detail = run(db, get_questionnaire, staff, row.id)
    assert (detail.row, detail.customer_uid) == (row, ada.uid)
    assert (detail.questions, detail.answers) == ([Question(q) for q in HEALTH], [None] * 3)
    assert last_history(db, staff, ada.uid) == (
        "questionnaire assigned",
        {},
        f"Health form (#{row.id}), 3 questions",
    )


def test_assigned_questions_do_not_change_when_the_template_does(
    db: Database, staff: Actor
) -> None:
    ada = customer(db, staff)
    health = template(db, staff.team_id, "Health form", HEALTH)
    row = run(db, assign_questionnaire, staff, ada.uid, health)
    with db.unit_of_work() as uow:
        stored = uow.session.get(QuestionnaireTemplate, health)
        assert stored is not None
        stored.name = "Health form v2"
        stored.questions = ["Something else entirely?"]
    detail = run(db, get_questionnaire, staff, row.id)
    assert (detail.row.name, detail.questions) == ("Health form", [Question(q) for q in HEALTH])


def test_template_without_questions_cannot_be_assigned(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    empty = template(db, staff.team_id, "Draft", [])
    with pytest.raises(ValidationFailed) as caught:
        run(db, assign_questionnaire, staff, ada.uid, empty)
    assert caught.value.errors == {"template": "Draft has no questions yet; add some to it first."}
    assert response_count(db) == 0


def test_another_workspaces_template_or_customer_cannot_be_used(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    ada = customer(db, staff)
    theirs = template(db, other_tenant.team_id, "Their form", ["Hidden?"])
    ours = template(db, staff.team_id, "Health form", HEALTH)
    with pytest.raises(NotFound):
        run(db, assign_questionnaire, staff, ada.uid, theirs)
    with pytest.raises(NotFound):
        run(db, assign_questionnaire, other_tenant, ada.uid, ours)
    with pytest.raises(NotFound):
        run(db, assign_questionnaire, staff, ada.uid, 999_999)
    assert response_count(db) == 0


# --- answers -----------------------------------------------------------------------------------


def assigned(db: Database, actor: Actor) -> tuple[CustomerRecord, int]:
    ada = customer(db, actor)
    health = template(db, actor.team_id, "Health form", HEALTH)
    return ada, run(db, assign_questionnaire, actor, ada.uid, health).id


def test_some_answers_leave_it_pending_with_n_of_m_answered(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada, response_id = assigned(db, staff)
    clock.advance(minutes=3)
    detail = run(db, record_answers, staff, response_id, ["  None  ", "", "Grace, 07700 900456"])
    assert detail.answers == ["None", None, "Grace, 07700 900456"]
    assert (detail.row.status, detail.row.answered, detail.row.total) == (
        QuestionnaireStatus.PENDING,
        2,
        3,
    )
    assert detail.row.updated_at == clock.current != detail.row.created_at
    assert run(db, get_questionnaire, staff, response_id) == detail
    assert last_history(db, staff, ada.uid) == (
        "questionnaire answers recorded",
        {
            "Q1: Any injuries?": [None, "None"],
            "Q3: Emergency contact?": [None, "Grace, 07700 900456"],
        },
        f"Health form (#{response_id}) on the customer's behalf: 2 of 3 answered",
    )


def test_answering_every_question_completes_it_and_clearing_one_reopens_it(
    db: Database, staff: Actor
) -> None:
    ada, response_id = assigned(db, staff)
    done = run(db, record_answers, staff, response_id, ["No", "Inhaler", "Grace"])
    assert (done.row.status, done.row.answered) == (QuestionnaireStatus.COMPLETED, 3)
    reopened = run(db, record_answers, staff, response_id, ["No", "  ", "Grace"])
    assert (reopened.row.status, reopened.row.answered) == (QuestionnaireStatus.PENDING, 2)
    action, changes, _ = last_history(db, staff, ada.uid)
    assert (action, changes) == (
        "questionnaire answers recorded",
        {"Q2: Any medication?": ["Inhaler", None]},
    )


def test_recording_the_same_answers_again_adds_no_history(db: Database, staff: Actor) -> None:
    ada, response_id = assigned(db, staff)
    first = run(db, record_answers, staff, response_id, ["No", "", ""])
    entries = run(db, list_history, staff, ada.uid).total
    assert run(db, record_answers, staff, response_id, ["No ", " ", ""]) == first
    assert run(db, list_history, staff, ada.uid).total == entries


def test_too_long_answers_are_refused_each_under_its_question(db: Database, staff: Actor) -> None:
    _, response_id = assigned(db, staff)
    before = run(db, get_questionnaire, staff, response_id)
    with pytest.raises(ValidationFailed) as caught:
        run(
            db,
            record_answers,
            staff,
            response_id,
            ["fine", "x" * (ANSWER_MAX + 1), "y" * 4500],
        )
    assert caught.value.errors == {
        "answer_1": "An answer can be at most 3,000 characters (this one has 3,001).",
        "answer_2": "An answer can be at most 3,000 characters (this one has 4,500).",
    }
    assert run(db, get_questionnaire, staff, response_id) == before
    kept = run(db, record_answers, staff, response_id, ["fine", "x" * ANSWER_MAX, ""])
    assert kept.answers[1] == "x" * ANSWER_MAX


def test_answers_must_match_the_questions(db: Database, staff: Actor) -> None:
    _, response_id = assigned(db, staff)
    with pytest.raises(ValidationFailed) as caught:
        run(db, record_answers, staff, response_id, ["only one"])
    assert set(caught.value.errors) == {"answers"}


def test_answers_based_on_an_older_version_are_refused(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    _, response_id = assigned(db, staff)
    opened = run(db, get_questionnaire, staff, response_id)
    clock.advance(minutes=1)
    run(db, record_answers, admin, response_id, ["No", "", ""])
    with pytest.raises(Conflict):
        run(
            db,
            record_answers,
            staff,
            response_id,
            ["Yes", "", ""],
            expected_updated_at=opened.row.updated_at,
        )
    assert run(db, get_questionnaire, staff, response_id).answers == ["No", None, None]


def test_another_workspace_or_customer_cannot_read_or_answer(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    ada, response_id = assigned(db, staff)
    grace = customer(db, staff, first="Grace")
    for attempt in (
        lambda: run(db, get_questionnaire, other_tenant, response_id),
        lambda: run(db, record_answers, other_tenant, response_id, ["a", "b", "c"]),
        lambda: run(db, list_questionnaires, other_tenant, ada.uid),
        lambda: run(db, get_questionnaire, staff, response_id, uid=grace.uid),
        lambda: run(db, record_answers, staff, response_id, ["a", "b", "c"], uid=grace.uid),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert run(db, get_questionnaire, staff, response_id, uid=ada.uid).answers == [None] * 3


# --- typed questions ---------------------------------------------------------------------------

INTAKE: list[Any] = [
    "Any injuries?",
    {"text": "Do you agree to the waiver?", "type": "yes/no"},
    {"text": "How did you hear of us?", "type": "choice", "choices": ["Friend", "Walk-in"]},
    {"text": "Date of birth", "type": "date"},
    {"text": "Years of practice", "type": "number"},
]


def intake(db: Database, actor: Actor) -> tuple[CustomerRecord, int]:
    ada = customer(db, actor)
    form = template(db, actor.team_id, "Intake", INTAKE)
    return ada, run(db, assign_questionnaire, actor, ada.uid, form).id


def test_typed_questions_are_copied_as_stored_and_read_with_their_types(
    db: Database, staff: Actor
) -> None:
    _, response_id = intake(db, staff)
    with db.unit_of_work() as uow:
        response = uow.session.get(QuestionnaireResponse, response_id)
        assert response is not None and response.questions == INTAKE
    detail = run(db, get_questionnaire, staff, response_id)
    assert detail.questions == [
        Question("Any injuries?"),
        Question("Do you agree to the waiver?", QuestionKind.YES_NO),
        Question("How did you hear of us?", QuestionKind.CHOICE, ("Friend", "Walk-in")),
        Question("Date of birth", QuestionKind.DATE),
        Question("Years of practice", QuestionKind.NUMBER),
    ]


def test_typed_answers_are_stored_in_canonical_form(db: Database, staff: Actor) -> None:
    ada, response_id = intake(db, staff)
    detail = run(
        db, record_answers, staff, response_id, ["None", "yes", "walk-in", "1990-05-17", " 12.5 "]
    )
    assert detail.answers == ["None", "Yes", "Walk-in", "1990-05-17", "12.5"]
    assert detail.row.status is QuestionnaireStatus.COMPLETED
    _, changes, _ = last_history(db, staff, ada.uid)
    assert changes["Q2: Do you agree to the waiver?"] == [None, "Yes"]


def test_answers_that_do_not_fit_their_type_are_refused_each_under_its_question(
    db: Database, staff: Actor
) -> None:
    _, response_id = intake(db, staff)
    with pytest.raises(ValidationFailed) as caught:
        run(
            db,
            record_answers,
            staff,
            response_id,
            ["Knee", "Perhaps", "Google", "17/05/1990", "twelve"],
        )
    assert caught.value.errors == {
        "answer_1": "Answer Yes or No.",
        "answer_2": "Choose one of: Friend, Walk-in.",
        "answer_3": "Write a date as yyyy-mm-dd, such as 2026-03-14.",
        "answer_4": "Write a number in digits, such as 12 or -3.5, without units or commas.",
    }
    assert run(db, get_questionnaire, staff, response_id).answers == [None] * 5


# --- listing -------------------------------------------------------------------------------------


def test_listing_is_newest_first_searchable_by_name_or_id_and_paged(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    grace = customer(db, staff, first="Grace")
    health = template(db, staff.team_id, "Health form", HEALTH)
    consent = template(db, staff.team_id, "Photo consent (Zoë's class)", ["May we?"])
    rows = []
    for template_id in (health, consent, health, consent, health, consent, health):
        clock.advance(minutes=1)
        rows.append(run(db, assign_questionnaire, staff, ada.uid, template_id))
    run(db, assign_questionnaire, staff, grace.uid, health)
    newest_first = rows[::-1]

    first = run(db, list_questionnaires, staff, ada.uid)
    assert (first.rows, first.total, first.pages) == (newest_first[:5], 7, 2)
    assert run(db, list_questionnaires, staff, ada.uid, page=2).rows == newest_first[5:]

    consents = [r for r in newest_first if r.name.startswith("Photo")]
    assert run(db, list_questionnaires, staff, ada.uid, query="ZOE").rows == consents
    assert run(db, list_questionnaires, staff, ada.uid, query="photo consent").total == 3
    assert run(db, list_questionnaires, staff, ada.uid, query=f"#{rows[2].id}").rows == [rows[2]]
    assert run(db, list_questionnaires, staff, ada.uid, query="waiver").rows == []


def test_listing_counts_answers_per_card(db: Database, staff: Actor) -> None:
    ada, response_id = assigned(db, staff)
    run(db, record_answers, staff, response_id, ["No", "", "Grace"])
    (card,) = run(db, list_questionnaires, staff, ada.uid).rows
    assert (card.id, card.answered, card.total, card.status) == (
        response_id,
        2,
        3,
        QuestionnaireStatus.PENDING,
    )
