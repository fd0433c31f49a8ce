"""Putting the possible duplicates on screen: opened at once, filled once they are found."""

from __future__ import annotations

from typing import Any

from bot.context.request import Request
from bot.surfaces.redraws import Shown, redraw
from bot.views.blocks import modal, section
from bot.views.duplicates import MAX_PAIRS, duplicates_modal, loading_modal
from bot.views.notice import Notice
from core.errors import DomainError
from core.services.duplicates import find_duplicates

REFUSED_CALLBACK = "duplicates.refused"


def render_report(request: Request, notice: Notice | None = None) -> dict[str, Any]:
    """The list as it is now, or why it can't be shown (not an admin)."""
    try:
        report = request.read(lambda uow, actor: find_duplicates(uow, actor, limit=MAX_PAIRS))
    except DomainError as exc:
        return modal("Possible duplicates", [section(exc.message)], callback_id=REFUSED_CALLBACK)
    return duplicates_modal(report, notice)


def open_report(request: Request, trigger_id: str, *, push: bool = False) -> None:
    """Open the list (pushed on a modal with `push`): a placeholder first, since finding the
    pairs of a big workspace may outlast the trigger."""
    client = request.client
    if not request.actor.is_admin:
        (client.views_push if push else client.views_open)(
            trigger_id=trigger_id, view=render_report(request)
        )
        return
    opened = (client.views_push if push else client.views_open)(
        trigger_id=trigger_id, view=loading_modal()
    )
    view_id = str((opened.get("view") or {}).get("id") or "")
    show_report(request, view_id)


def show_report(request: Request, view_id: str, notice: Notice | None = None) -> None:
    """Refresh the list in view `view_id`."""
    redraw(request, Shown(view_id), lambda: render_report(request, notice), "duplicates update")
