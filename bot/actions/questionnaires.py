"""Questionnaires on the details' tab: Assign, View Details, and recording answers for the customer."""

from __future__ import annotations

import dataclasses
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import actor_of, deps_of
from bot.surfaces.customer_details import details_of, first_action, gone_view, show_details
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import as_row_id, state_values
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


def register(app: App) -> None:
    """Wire the Questionnaires tab's buttons and its three modals."""

    @app.action(ASSIGN_ACTION)
    def on_assign(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        with deps_of(context).db.unit_of_work(readonly=True) as uow:
            templates = questionnaires.list_templates(uow, actor_of(context))
        form = assign_form(templates, AssignMeta(view_id=view_id, details=meta))
        client.views_push(trigger_id=body["trigger_id"], view=form)

    @app.view(ASSIGN_CALLBACK)
    def on_assigned(
        ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        meta = AssignMeta.parse(view.get("private_metadata"))
        template_id = submitted_template(state_values(view))
        if meta is None or template_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        try:
            with deps.db.unit_of_work() as uow:
                row = questionnaires.assign_questionnaire(uow, actor, meta.details.uid, template_id)
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
        details = meta.details.showing(Tab.QUESTIONNAIRES)
        show_details(client, deps, actor, meta.view_id, details, notice=notice)

    @app.action(VIEW_ACTION)
    def on_view(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found, response_id = details_of(body), as_row_id(first_action(body).get("value"))
        if found is None or response_id is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                detail = questionnaires.get_questionnaire(uow, actor, response_id, uid=meta.uid)
        except DomainError as exc:
            show_details(client, deps, actor, view_id, meta, notice=Notice(exc.message, ok=False))
            return
        modal_meta = QuestionnaireMeta(
            view_id=view_id,
            details=meta,
            response_id=detail.row.id,
            updated_at=detail.row.updated_at,
        )
        view = questionnaire_details(detail, modal_meta, timezone=deps.settings.business_timezone)
        client.views_push(trigger_id=body["trigger_id"], view=view)

    @app.view(DETAILS_CALLBACK)
    def on_record(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """'Record answers': the same modal becomes the answer form (no deeper stack)."""
        meta = QuestionnaireMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        try:
            with deps_of(context).db.unit_of_work(readonly=True) as uow:
                detail = questionnaires.get_questionnaire(
                    uow, actor_of(context), meta.response_id, uid=meta.details.uid
                )
        except DomainError as exc:
            ack(response_action="update", view=gone_view(exc.message))
            return
        fresh = meta.model_copy(update={"updated_at": detail.row.updated_at})
        ack(response_action="update", view=answers_form(detail, fresh))

    @app.view(ANSWERS_CALLBACK)
    def on_answers(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = QuestionnaireMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = state_values(view)
        uid = meta.details.uid
        typed: list[str] = []
        try:
            with deps.db.unit_of_work() as uow:
                before = questionnaires.get_questionnaire(uow, actor, meta.response_id, uid=uid)
                typed = submitted_answers(values, before)
                detail = questionnaires.record_answers(
                    uow,
                    actor,
                    meta.response_id,
                    typed,
                    uid=uid,
                    expected_updated_at=meta.updated_at,
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
        show_details(client, deps, actor, meta.view_id, details, notice=notice)
