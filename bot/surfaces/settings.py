"""The studio's settings on screen: the Settings modal opened from Home, and its saving."""

from __future__ import annotations

import dataclasses

from slack_bolt import Ack

from bot.context.request import Submission
from bot.surfaces.form_answers import saved_or_answered
from bot.surfaces.hub import HubControl, show_hub
from bot.views.notice import Notice
from bot.views.origin import Origin
from bot.views.settings import (
    FIELDS,
    SettingsMeta,
    settings_message,
    settings_modal,
    submitted_settings,
)
from core.services.settings import change_settings

ADMINS_ONLY = "Only an admin can change the studio settings."


def open_settings(control: HubControl) -> None:
    """Open the Settings modal over Home for an admin; tell anyone else why not."""
    if not control.request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return
    control.open(settings_modal(control.request.studio, SettingsMeta(hub=control.origin.hub)))


def save_settings(ack: Ack, form: Submission[SettingsMeta]) -> None:
    """Store what was submitted and redraw Home with it, or answer the problems under the fields."""
    wanted = submitted_settings(form.state)
    done = saved_or_answered(
        ack,
        lambda: form.request.write(lambda uow, actor: change_settings(uow, actor, wanted)),
        FIELDS,
        settings_message,
    )
    if done is None:
        return
    ack()
    saved, changed = done.value
    text = f"Saved the studio settings ({', '.join(changed)})." if changed else "Nothing changed."
    # This request read the settings before they changed: Home shows the ones just saved.
    request = dataclasses.replace(form.request, studio=saved)
    show_hub(request, Origin(surface="home", hub=form.meta.hub), notice=Notice(text, ok=True))
