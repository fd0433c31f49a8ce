"""An admin's choice in a row's menu ('verb|row id'), or the person told why it can't be done."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from bot.context.request import Request
from bot.views.payload import as_row_id
from core.services.catalog_fields import ADMINS_ONLY

OUT_OF_DATE = "That menu is out of date; choose again."


class MenuControl(Protocol):
    """A menu chosen on a surface that can show a notice."""

    @property
    def request(self) -> Request:
        """The request the menu came with."""

    @property
    def value(self) -> str:
        """The option's value."""

    def tell(self, text: str, *, ok: bool = False) -> None:
        """Redraw the surface with a notice."""


def admin_choice(control: MenuControl, verbs: Collection[str]) -> tuple[str, int] | None:
    """The verb and row chosen by an admin; None once anyone else, or a stale menu, is told."""
    if not control.request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return None
    verb, _, raw_id = control.value.partition("|")
    row_id = as_row_id(raw_id)
    # No row has id 0: to a form, 0 means a new one.
    if verb not in verbs or not row_id:
        control.tell(OUT_OF_DATE)
        return None
    return verb, row_id
