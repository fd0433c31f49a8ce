"""Saving the Create Customer / Edit Contact form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import actor_of, deps_of
from bot.surfaces.customer_details import show_details
from bot.surfaces.hub import render_hub, show_hub
from bot.views.blocks import modal, section
from bot.views.customer_details import DetailsMeta
from bot.views.customer_form import CALLBACK_ID, FIELDS, FormMeta, customer_form, submitted_values
from bot.views.hub import HubState
from bot.views.notice import Notice
from bot.views.origin import DetailsState
from bot.views.payload import state_values
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.services import customers
from core.services.customers import CustomerInput


def _message_view(text: str) -> dict[str, Any]:
    return modal("Customer Records", [section(text)], callback_id="customer_form.message")


def register(app: App) -> None:
    """Wire the form's submission."""

    @app.view(CALLBACK_ID)
    def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        deps, actor = deps_of(context), actor_of(context)
        meta = FormMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack(
                response_action="update",
                view=_message_view("This form is out of date; open it again."),
            )
            return
        values = submitted_values(state_values(view))
        data = CustomerInput(**values)
        try:
            with deps.db.unit_of_work() as uow:
                if meta.mode == "create":
                    record = customers.create_customer(uow, actor, data)
                else:
                    record = customers.edit_contact(
                        uow, actor, meta.uid, data, expected_version=meta.version
                    )
        except ValidationFailed as exc:
            errors = {field: msg for field, msg in exc.errors.items() if field in FIELDS}
            if errors:
                ack(response_action="errors", errors=errors)
            else:
                ack(response_action="update", view=_message_view(exc.message))
            return
        except Conflict as exc:
            with deps.db.unit_of_work(readonly=True) as uow:
                latest = customers.get_customer(uow, actor, meta.uid)
            fresh = meta.model_copy(update={"version": latest.version})
            who = exc.changed_by or latest.updated_by
            when = exc.changed_at or latest.updated_at
            tz = deps.settings.business_timezone
            ack(
                response_action="update",
                view=customer_form(fresh, values, conflict=(who, when), timezone=tz),
            )
            return
        except NotFound as exc:
            ack(response_action="update", view=_message_view(exc.message))
            return
        except DomainError as exc:
            ack(response_action="update", view=_message_view(exc.message))
            return
        if meta.mode == "create":
            text = f"Created {record.full_name}. Their portal login is on its way by email."
        else:
            text = f"Saved {record.full_name}'s contact details."
        if meta.origin.surface == "none" and not meta.origin.details_view_id:
            # Opened on its own (`/customers new`): no hub underneath would show the confirmation,
            # so the form itself becomes the hub, showing the customer just saved.
            hub = render_hub(deps, actor, HubState(q=record.email), home=False, notice=Notice(text))
            ack(response_action="update", view=hub)
            return
        ack()
        if meta.origin.details_view_id:
            # Back to the details the form was opened from, on the tab they were showing.
            hub_origin = meta.origin.model_copy(
                update={"details_view_id": "", "details": DetailsState()}
            )
            details = DetailsMeta(uid=record.uid, state=meta.origin.details, origin=hub_origin)
            show_details(client, deps, actor, meta.origin.details_view_id, details)
        show_hub(client, deps, actor, meta.origin, notice=Notice(text))
