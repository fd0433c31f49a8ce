"""Questionnaires on the details' tab: Assign, View Details, and recording answers for the customer."""

from __future__ import annotations

import dataclasses
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Submission
from bot.surfaces.customer_details import DetailsControl, gone_view, show_details
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import as_row_id
from bot.views.questionnaires import (
    ANSWERS_CALLBACK,
    ASSIGN_ACTION,
    ASSIGN_CALLBACK,
    DETAILS_CALLBACK,
    TEMPLATE_BLOCK,
    VIEW_ACTION,
    AssignMeta,
    QuestionnaireMeta,
    answers_form,
    assign_form,
    questionnaire_details,
    submitted_answers,
    submitted_template,
)
from core.errors import Conflict, DomainError, ValidationFailed
from core.services import questionnaires
from core.services.questionnaires import QuestionnaireDetail


def on_assign(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Assign Questionnaire: the template picker."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    templates = control.request.read(questionnaires.list_templates)
    control.push(
        assign_form(templates, AssignMeta(view_id=control.view_id, details=control.details))
    )


def on_assigned(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The picker's Assign: the questionnaire waits for answers."""
    form = Submission.of(AssignMeta, view, context, client)
    template_id = submitted_template(form.state) if form else None
    if form is None or template_id is None:
        ack()
        return
    uid = form.meta.details.uid
    try:
        row = form.request.write(
            lambda uow, actor: questionnaires.assign_questionnaire(uow, actor, uid, template_id)
        )
    except ValidationFailed as exc:
        ack(response_action="errors", errors={TEMPLATE_BLOCK: " ".join(exc.errors.values())})
        return
    except DomainError as exc:
        ack(response_action="errors", errors={TEMPLATE_BLOCK: exc.message})
        return
    ack()
    notice = Notice(
        f"Assigned {row.name} (#{row.id}). It stays pending until the customer answers it "
        "in the portal, or you record their answers here."
    )
    details = form.meta.details.showing(Tab.QUESTIONNAIRES)
    show_details(form.request, form.meta.view_id, details, notice=notice)


def on_view(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """View Details: the questions and answers so far."""
    ack()
    control = DetailsControl.of(body, context, client)
    response_id = as_row_id(control.value) if control else None
    if control is None or response_id is None:
        return
    uid = control.details.uid
    detail = control.read(
        lambda uow, actor: questionnaires.get_questionnaire(uow, actor, response_id, uid=uid)
    )
    if detail is None:
        return
    meta = QuestionnaireMeta(
        view_id=control.view_id,
        details=control.details,
        response_id=detail.row.id,
        updated_at=detail.row.updated_at,
    )
    control.push(questionnaire_details(detail, meta, timezone=control.request.timezone))


def _detail(form: Submission[QuestionnaireMeta]) -> QuestionnaireDetail:
    response_id, uid = form.meta.response_id, form.meta.details.uid
    return form.request.read(
        lambda uow, actor: questionnaires.get_questionnaire(uow, actor, response_id, uid=uid)
    )


def on_record(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """'Record answers': the same modal becomes the answer form (no deeper stack)."""
    form = Submission.of(QuestionnaireMeta, view, context, client)
    if form is None:
        ack()
        return
    try:
        detail = _detail(form)
    except DomainError as exc:
        ack(response_action="update", view=gone_view(exc.message))
        return
    fresh = form.meta.model_copy(update={"updated_at": detail.row.updated_at})
    ack(response_action="update", view=answers_form(detail, fresh))


def on_answers(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The answer form's Save: record the answers, or say what to fix."""
    form = Submission.of(QuestionnaireMeta, view, context, client)
    if form is None:
        ack()
        return
    meta, values, actor = form.meta, form.state, form.request.actor
    uid = meta.details.uid
    typed: list[str] = []
    try:
        with form.request.deps.db.unit_of_work() as uow:
            before = questionnaires.get_questionnaire(uow, actor, meta.response_id, uid=uid)
            typed = submitted_answers(values, before)
            detail = questionnaires.record_answers(
                uow, actor, meta.response_id, typed, uid=uid, expected_updated_at=meta.updated_at
            )
    except ValidationFailed as exc:
        shown = {key: msg for key, msg in exc.errors.items() if key in values}
        if shown:
            ack(response_action="errors", errors=shown)
        else:
            ack(response_action="update", view=gone_view(exc.message))
        return
    except Conflict as exc:
        # Saving again overwrites the newer answers; what was typed stays in the boxes.
        kept = dataclasses.replace(before, answers=[answer or None for answer in typed])
        fresh = meta.model_copy(update={"updated_at": exc.changed_at})
        problem = exc.message + " Press Save answers again to replace them with these."
        ack(response_action="update", view=answers_form(kept, fresh, problem=problem))
        return
    except DomainError as exc:
        ack(response_action="update", view=gone_view(exc.message))
        return
    ack()
    row = detail.row
    notice = Notice(f"Recorded answers to {row.name}: {row.answered} of {row.total} answered.")
    details = meta.details
    if details.state.tab is not Tab.QUESTIONNAIRES:
        details = details.showing(Tab.QUESTIONNAIRES)
    show_details(form.request, meta.view_id, details, notice=notice)


def register(app: App) -> None:
    """Wire the Questionnaires tab's buttons and its three modals."""
    app.action(ASSIGN_ACTION)(on_assign)
    app.view(ASSIGN_CALLBACK)(on_assigned)
    app.action(VIEW_ACTION)(on_view)
    app.view(DETAILS_CALLBACK)(on_record)
    app.view(ANSWERS_CALLBACK)(on_answers)
