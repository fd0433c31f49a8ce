"""Where a nested view came from, so the hub underneath can be refreshed afterwards."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.views.hub import HubState


class Origin(BaseModel):
    """The hub (as a modal or the Home tab) a form or confirmation was opened from."""

    surface: Literal["modal", "home", "none"] = "none"
    view_id: str = Field(default="", max_length=64)
    # Set when the form was opened from a customer's details, which then shows the result.
    details_view_id: str = Field(default="", max_length=64)
    hub: HubState = Field(default_factory=HubState)
