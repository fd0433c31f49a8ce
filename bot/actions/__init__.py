"""Interactivity listeners: block_actions, view_submission and block_suggestion, one module a surface.

A form's opening control and its submission are one flow, so they live in one module."""

from __future__ import annotations

from slack_bolt import App

from bot.actions import (
    account,
    alerts,
    appointments,
    attendance,
    bookings,
    catalog,
    catalog_items,
    charts,
    commerce,
    customer_anonymise,
    customer_delete,
    customer_details,
    customer_form,
    customer_import,
    duplicates,
    household,
    hub,
    merge,
    notes,
    passes,
    questionnaires,
    retention,
    segments,
    settings,
    stripe_account,
    subscriptions,
    tags,
    today,
    videos,
)

MODULES = (
    hub,
    customer_form,
    customer_delete,
    customer_anonymise,
    customer_details,
    notes,
    questionnaires,
    merge,
    duplicates,
    household,
    account,
    charts,
    retention,
    commerce,
    bookings,
    appointments,
    attendance,
    passes,
    videos,
    subscriptions,
    settings,
    stripe_account,
    catalog,
    catalog_items,
    customer_import,
    alerts,
    today,
    segments,
    tags,
)


def register(app: App) -> None:
    """Wire every interactivity listener."""
    for module in MODULES:
        module.register(app)
