"""What the App Home shows staff: Today or Customers, switched at its top, and where they were."""

from __future__ import annotations

import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from bot.views.blocks import Block, actions, button
from bot.views.payload import load_json, validated

TODAY_ACTION = "home.today"
CUSTOMERS_ACTION = "home.customers"
SWITCH_BLOCK = "home_switch"
Page = Literal["today", "customers"]


class HomePlace(BaseModel):
    """Which page the Home tab shows, and the local day it was last shown on (Customers)."""

    home: Page = "today"
    day: str = Field(default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$")

    @classmethod
    def from_metadata(cls, raw: object) -> HomePlace:
        """The place in a Home view's private_metadata; Today when unreadable or older."""
        return validated(cls, load_json(raw)) or cls()

    def keeps_customers(self, day: date) -> bool:
        """Reopening keeps Customers only on the day the person left it there."""
        return self.home == "customers" and self.day == day.isoformat()


def home_metadata(page: Page, hub: dict[str, object], day: date | None = None) -> str:
    """private_metadata for a Home view: its page, the hub's state (read back by HubState), the
    day."""
    place: dict[str, object] = {"home": page, "hub": hub}
    if day is not None:
        place["day"] = day.isoformat()
    return json.dumps(place, separators=(",", ":"))


def home_switch(showing: Page) -> Block:
    """Today | Customers, the page shown styled primary."""
    return actions(
        [
            button(
                "Today",
                TODAY_ACTION,
                value="today",
                style="primary" if showing == "today" else None,
            ),
            button(
                "Customers",
                CUSTOMERS_ACTION,
                value="customers",
                style="primary" if showing == "customers" else None,
            ),
        ],
        block_id=SWITCH_BLOCK,
    )
