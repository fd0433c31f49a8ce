"""The commerce forms' state: their metadata, and what was filled in, read by block_id.

Input block_ids are the services' field names (price, pass_id, …): errors land under their field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal, TypeVar

from pydantic import Field

from bot.views.origin import Tab
from bot.views.payload import DB_INT_MAX, as_row_id, read_metadata
from bot.views.tabs import ReturnTo

PAYMENT_BLOCK = "payment"
PRICE_BLOCK = "price"
PASS_BLOCK = "pass_id"  # noqa: S105 - a block_id, not a secret
INTENT_BLOCK = "payment_intent_id"

Method = Literal["manual", "package", "stripe", "link"]
T = TypeVar("T")


PAYER_MAX = 300


class CommerceMeta(ReturnTo):
    """A commerce form or confirmation pushed over a customer's details."""

    # The customer's full name, for the form's text and the notice afterwards.
    name: str = Field(default="", max_length=300)
    # The row a row action is about; `tab` and `verb` say which confirmation this is.
    row_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX)
    tab: Tab | None = None
    verb: str = Field(default="", max_length=16)
    # Refund: what the person saw as refunded already, so a stale modal can't refund again.
    refunded_minor: int | None = Field(default=None, ge=0, le=DB_INT_MAX)
    # The customer has an email address, so a payment link can be offered (the service checks).
    mailable: bool = False
    # Who pays for the customer: their parents' names, shown on the booking forms.
    payer: str = Field(default="", max_length=PAYER_MAX)

    @classmethod
    def parse(cls, raw: object) -> CommerceMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


class FormValues:
    """What was typed and chosen in a form (`view.state.values`), read by block_id."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self._values = values if isinstance(values, dict) else {}

    @classmethod
    def of(cls, view: dict[str, Any]) -> FormValues:
        """The values of a view as Slack sends it with an interaction."""
        state = view.get("state")
        return cls(state.get("values") if isinstance(state, dict) else None)

    def _element(self, block_id: str) -> dict[str, Any]:
        block = self._values.get(block_id)
        if not isinstance(block, dict):
            return {}
        # Each input block holds one element; its action_id may vary (the pass select's does).
        for element in block.values():
            if isinstance(element, dict):
                return element
        return {}

    def text(self, block_id: str) -> str:
        """The typed text, stripped ('' when empty)."""
        value = self._element(block_id).get("value")
        return value.strip() if isinstance(value, str) else ""

    def option(self, block_id: str) -> dict[str, Any] | None:
        """The chosen option (text and value), or None."""
        chosen = self._element(block_id).get("selected_option")
        return chosen if isinstance(chosen, dict) and isinstance(chosen.get("value"), str) else None

    def choice(self, block_id: str) -> str | None:
        """The chosen option's value, or None."""
        chosen = self.option(block_id)
        return chosen["value"] if chosen else None

    def choices(self, block_id: str) -> list[str]:
        """The values of every option chosen in a multi-select or checkboxes."""
        chosen = self._element(block_id).get("selected_options")
        if not isinstance(chosen, list):
            return []
        return [
            o["value"] for o in chosen if isinstance(o, dict) and isinstance(o.get("value"), str)
        ]

    def user(self, block_id: str) -> str:
        """The Slack user chosen in a users select ('' when none)."""
        chosen = self._element(block_id).get("selected_user")
        return chosen if isinstance(chosen, str) else ""

    def row_id(self, block_id: str) -> int | None:
        """The chosen option's value as a row id, or None."""
        return as_row_id(self.choice(block_id) or "")

    def _picked(self, block_id: str, key: str, parse: Callable[[str], T]) -> T | None:
        value = self._element(block_id).get(key)
        try:
            return parse(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def day(self, block_id: str) -> date | None:
        """The picked date, or None."""
        return self._picked(block_id, "selected_date", date.fromisoformat)

    def clock_time(self, block_id: str) -> time | None:
        """The picked time of day (HH:MM), or None."""
        return self._picked(block_id, "selected_time", time.fromisoformat)


@dataclass(frozen=True)
class PaymentForm:
    """The payment part of a form as filled in so far."""

    method: Method = "manual"
    price: str = ""
    pass_option: dict[str, Any] | None = None
    intent: str = ""

    @classmethod
    def read(cls, values: FormValues, methods: Sequence[Method]) -> PaymentForm:
        """The payment fields of `values`; an unknown or unoffered method reads as Manual."""
        chosen = values.choice(PAYMENT_BLOCK)
        method: Method = next((m for m in methods if m == chosen), "manual")
        return cls(
            method=method,
            price=values.text(PRICE_BLOCK),
            pass_option=values.option(PASS_BLOCK),
            intent=values.text(INTENT_BLOCK),
        )

    @property
    def pass_id(self) -> int | None:
        """The chosen pass's id, or None."""
        return as_row_id(str((self.pass_option or {}).get("value") or ""))

    @property
    def pass_label(self) -> str:
        """'10-class pass #12', as the chosen option names it ('' when none)."""
        text = str(((self.pass_option or {}).get("text") or {}).get("text") or "")
        return text.split(" · ")[0]
