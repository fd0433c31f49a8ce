"""Merge Customer (admins only): pick the customer to keep, preview what moves, merge."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import actor_of, deps_of
from bot.surfaces.customer_details import details_of, first_action, show_details
from bot.surfaces.hub import show_hub
from bot.views.blocks import modal, section
from bot.views.customer_details import MERGE_ACTION
from bot.views.merge import (
    CALLBACK_ID,
    MAX_CANDIDATES,
    TARGET_ACTION,
    TARGET_BLOCK,
    MergeMeta,
    candidate_options,
    merge_form,
    submitted_target,
)
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import chosen_value, state_values
from core.errors import DomainError, ValidationFailed
from core.services import account, customers

log = logging.getLogger(__name__)

REFUSED = "Only an admin can merge customers; ask an admin to do it."


def _reason(exc: DomainError) -> str:
    """The refusal worded for the select: its own field message when the service gave one."""
    if isinstance(exc, ValidationFailed):
        return " ".join(exc.errors.values())
    return exc.message


def _moved(counts: dict[str, int]) -> str:
    moved = [f"{count:,} {tab}" for tab, count in counts.items() if count]
    return ", ".join(moved) if moved else "nothing (they had no history yet)"


def register(app: App) -> None:
    """Wire the merge button, the customer search, the preview and the confirmation."""

    @app.action(MERGE_ACTION)
    def on_merge(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        if not actor.is_admin:
            show_details(client, deps, actor, view_id, meta, notice=Notice(REFUSED, ok=False))
            return
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                source = customers.get_customer(uow, actor, meta.uid)
        except DomainError as exc:
            show_details(client, deps, actor, view_id, meta, notice=Notice(exc.message, ok=False))
            return
        form = merge_form(source, MergeMeta(view_id=view_id, details=meta))
        client.views_push(trigger_id=body["trigger_id"], view=form)

    @app.options(TARGET_ACTION)
    def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        meta = MergeMeta.parse((body.get("view") or {}).get("private_metadata"))
        actor = actor_of(context)
        if meta is None or not actor.is_admin:
            ack(options=[])
            return
        typed = str(body.get("value") or "")[:100]
        try:
            with deps_of(context).db.unit_of_work(readonly=True) as uow:
                found = account.merge_candidates(
                    uow, actor, meta.details.uid, typed, MAX_CANDIDATES
                )
        except DomainError:
            found = []
        ack(options=candidate_options(found))

    @app.action(TARGET_ACTION)
    def on_pick(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        view = body.get("view") or {}
        meta = MergeMeta.parse(view.get("private_metadata"))
        target = chosen_value(first_action(body))
        if meta is None or not target:
            return
        deps, actor = deps_of(context), actor_of(context)
        source_uid = meta.details.uid
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                try:
                    preview = account.merge_preview(uow, actor, source_uid, target)
                    form = merge_form(preview.source, meta, preview=preview)
                except DomainError as exc:
                    source = customers.get_customer(uow, actor, source_uid)
                    form = merge_form(source, meta, problem=_reason(exc))
        except DomainError as exc:
            form = modal("Merge Customer", [section(exc.message)], callback_id="merge.gone")
        try:
            client.views_update(view_id=view["id"], view=form, hash=view.get("hash"))
        except SlackApiError as exc:
            if exc.response.get("error") != "hash_conflict":
                raise
            log.debug("merge preview skipped: a newer choice already updated the modal")

    @app.view(CALLBACK_ID)
    def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = MergeMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        target = submitted_target(state_values(view))
        try:
            with deps.db.unit_of_work() as uow:
                merged = account.merge_customers(uow, actor, meta.details.uid, target)
        except DomainError as exc:
            # Nothing moved; the select keeps the choice and the reason shows under it.
            ack(response_action="errors", errors={TARGET_BLOCK: _reason(exc)})
            return
        ack()
        source, kept = merged.source, merged.target
        notice = Notice(
            f"Merged {source.full_name} into {kept.full_name} (UID {kept.uid}): moved "
            f"{_moved(merged.counts)}. {source.full_name} is archived."
        )
        details = meta.details.showing(Tab.ACCOUNT)
        show_details(client, deps, actor, meta.view_id, details, notice=notice)
        show_hub(client, deps, actor, meta.details.origin)
