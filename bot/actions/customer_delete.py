"""The Delete confirmation's submission (admins only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import actor_of, deps_of
from bot.surfaces.hub import show_hub
from bot.views.blocks import modal, section
from bot.views.customer_delete import DELETE_CALLBACK_ID, DeleteMeta
from bot.views.notice import Notice
from core.errors import DomainError
from core.services import customers


def register(app: App) -> None:
    """Wire the confirmation."""

    @app.view(DELETE_CALLBACK_ID)
    def on_confirm(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        deps, actor = deps_of(context), actor_of(context)
        meta = DeleteMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        try:
            with deps.db.unit_of_work() as uow:
                name = customers.delete_customer(uow, actor, meta.uid)
        except DomainError as exc:
            ack(
                response_action="update",
                view=modal(
                    "Not deleted", [section(exc.message)], callback_id="customer_delete.refused"
                ),
            )
            return
        ack()
        notice = Notice(f"Deleted {name} and their history permanently.")
        show_hub(client, deps, actor, meta.origin, notice=notice)
