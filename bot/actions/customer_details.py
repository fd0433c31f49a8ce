"""Actions inside the customer details view."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import actor_of, deps_of
from bot.views.blocks import modal, section
from bot.views.customer_details import EDIT_ACTION, DetailsMeta
from bot.views.customer_form import FormMeta, customer_form, record_values
from bot.views.origin import Origin
from core.errors import DomainError
from core.services import customers


def register(app: App) -> None:
    """Wire Edit on the details view."""

    @app.action(EDIT_ACTION)
    def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        deps, actor = deps_of(context), actor_of(context)
        uid = str((body.get("actions") or [{}])[0].get("value") or "")
        view = body.get("view") or {}
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                record = customers.get_customer(uow, actor, uid)
        except DomainError as exc:
            error = modal("Customer", [section(exc.message)], callback_id="customer_details.gone")
            client.views_update(view_id=view.get("id", ""), view=error)
            return
        details = DetailsMeta.parse(view.get("private_metadata"))
        hub_origin = details.origin if details is not None else Origin()
        origin = hub_origin.model_copy(update={"details_view_id": str(view.get("id", ""))})
        meta = FormMeta(mode="edit", uid=uid, version=record.version, origin=origin)
        client.views_push(
            trigger_id=body["trigger_id"], view=customer_form(meta, record_values(record))
        )
