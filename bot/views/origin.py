"""Where a nested view came from, so the view underneath can be refreshed afterwards."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from bot.views.hub import SEARCH_MAX, HubState


class Tab(StrEnum):
    """The eight tabs of a customer's details, in the order they are shown."""

    BOOKINGS = "bookings"
    APPOINTMENTS = "appointments"
    PASSES = "passes"
    VIDEOS = "videos"
    SUBSCRIPTIONS = "subscriptions"
    QUESTIONNAIRES = "questionnaires"
    NOTES = "notes"
    ACCOUNT = "account"


class DetailsState(BaseModel):
    """Which tab of a customer's details is shown, with its search text and page."""

    tab: Tab = Tab.BOOKINGS
    q: str = Field(default="", max_length=SEARCH_MAX)
    page: int = Field(default=1, ge=1, le=1_000_000)


class Origin(BaseModel):
    """The hub (as a modal or the Home tab) a form or confirmation was opened from."""

    surface: Literal["modal", "home", "none"] = "none"
    view_id: str = Field(default="", max_length=64)
    # Set when the form was opened from a customer's details, which then shows the result
    # on the tab (and search and page) it was showing.
    details_view_id: str = Field(default="", max_length=64)
    details: DetailsState = Field(default_factory=DetailsState)
    hub: HubState = Field(default_factory=HubState)
