"""Ephemeral replies to the slash command: help, refusals, staff lists."""

from __future__ import annotations

from bot.views.blocks import Block, context, header, section
from core.services.staff import StaffEntry


def _mentions(user_ids: list[str]) -> str:
    if not user_ids:
        return "an admin of this app (none is configured yet: set ADMIN_SLACK_USER_IDS)"
    people = [f"<@{user}>" for user in user_ids]
    return people[0] if len(people) == 1 else ", ".join(people[:-1]) + " or " + people[-1]


def refusal_text(admin_ids: list[str], *, guest: bool = False) -> str:
    """Why this person can't use the app and who can let them in."""
    if guest:
        return (
            "Sorry, guest accounts can't use Customer Records: customer details are "
            "personal data for the business's own staff."
        )
    return (
        "Sorry, Customer Records is only for the business's staff and you don't have access yet. "
        f"Ask {_mentions(admin_ids)} to add you: they type `/customers staff add` and mention you."
    )


def admin_only_text(what: str) -> str:
    """A staff member tried an admin-only action."""
    return f"Only an admin can {what}. Ask an admin, or archive the customer instead of deleting."


def help_blocks() -> list[Block]:
    """Every subcommand of /customers, with an example each."""
    return [
        header("Customer Records — /customers"),
        section(
            "• `/customers` — open the customer list (Active and Archived, search, sort, pages)\n"
            "• `/customers zoe` — open the list already searching for *zoe* "
            "(name, email or mobile)\n"
            "• `/customers new` — create a customer\n"
            "• `/customers chart zoe` — post the 12-month sales chart of the best match here\n"
            "• `/customers import` — add customers from another system's CSV export, with a "
            "preview first (admins)\n"
            "• `/customers segment` — find customers by visits, spending, passes and "
            "subscriptions, and save the list by name for Home\n"
            "• `/customers retention` — post the 12-month retention report here: active, new, "
            "returning and lapsed (60 days without a visit) customers per month\n"
            "• `/customers help` — this help\n"
            "• `/customers duplicates` — customers who may be one person, to merge (admins)\n"
            "• `/customers alerts #channel` — what a staff-only channel hears about: new "
            "customers, bookings, refunds, failed payments… (admins)\n"
            "• `/customers staff list` — who has access (admins)\n"
            "• `/customers staff add @someone` — give a colleague access (admins; add `admin` "
            "at the end to make them an admin)\n"
            "• `/customers staff remove @someone` — withdraw access (admins)"
        ),
        context(
            "The list is also on this app's *Home* tab. Use a row's ⋯ menu to manage, edit, "
            "archive or delete a customer; archiving can be undone, deleting cannot."
        ),
    ]


def staff_list_text(entries: list[StaffEntry]) -> str:
    """Who has access, and how."""
    if not entries:
        return "Nobody has been given access yet. Add staff with `/customers staff add @someone`."
    lines = []
    for entry in entries:
        how = " (configured in ADMIN_SLACK_USER_IDS)" if entry.configured else ""
        lines.append(f"• <@{entry.user_id}> — {entry.role.value}{how}")
    return "*People with access to Customer Records*\n" + "\n".join(lines)
