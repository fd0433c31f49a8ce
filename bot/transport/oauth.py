"""Many workspaces: Slack OAuth installs kept in the app's database, and tokens per team."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urljoin

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy.exc import SQLAlchemyError

from bot.transport.inbound import is_slack_id
from bot.transport.token_store import EncryptedInstallationStore, PurgingOAuthStateStore
from core.config import Settings
from core.crypto import TokenCipher
from core.db import Database
from core.models import Role
from core.services.installs import InstallOutcome, record_install
from core.services.workspaces import is_disabled

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600

# What the installer reads when the redirect back from Slack cannot complete the install.
FAILURES = {
    "invalid_state": "This installation link has expired or was already used.",
    "invalid_browser": (
        "This installation was started in another browser, or the browser refused its cookie."
    ),
    "access_denied": "The installation was cancelled in Slack.",
    "missing_code": "Slack did not confirm the installation.",
    "invalid_code": "Slack did not confirm the installation.",
}


def oauth_options(settings: Settings, db: Database) -> dict[str, Any]:
    """The Bolt App arguments for OAuth installs; none in single-workspace token mode."""
    if not settings.oauth_enabled:
        return {}
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    # Tables come from the migrations (0004); the stores are never asked to create them.
    installations = EncryptedInstallationStore(
        SQLAlchemyInstallationStore(
            client_id=client_id,
            engine=db.engine,
            logger=logging.getLogger("bot.transport.oauth.store"),
        ),
        # Settings refuse OAuth without a valid key, so there is at least one here.
        TokenCipher(settings.token_keys),
    )
    states = PurgingOAuthStateStore(
        expiration_seconds=STATE_SECONDS,
        engine=db.engine,
        logger=logging.getLogger("bot.transport.oauth.state"),
    )
    public = (settings.public_base_url or "").rstrip("/")
    oauth = OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=settings.slack_scopes,
        user_scopes=[],
        redirect_uri=public + REDIRECT_PATH if public else None,
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,
        redirect_uri_path=REDIRECT_PATH,
        # Slack's consent page, beside the Web API (the local stand-in serves both).
        authorization_url=urljoin(settings.slack_api_url, "../oauth/v2/authorize"),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=_installed(db), failure=_failed),
        logger=logging.getLogger("bot.transport.oauth"),
    )
    authorize = InstallationStoreAuthorize(
        client_id=client_id,
        client_secret=client_secret,
        installation_store=installations,
        bot_only=True,
        # Keyed by token: what auth.test says about a token never changes, and a new install
        # brings a new token, so no worker can serve a stale answer. Saves a call per request.
        cache_enabled=True,
        logger=logging.getLogger("bot.transport.oauth"),
    )
    return {
        "oauth_settings": oauth,
        "authorize": authorize,
        "before_authorize": ignore_disabled_workspaces(db),
    }


def ignore_disabled_workspaces(db: Database) -> Callable[..., BoltResponse | None]:
    """Middleware: requests from a workspace that uninstalled the app get an empty answer."""

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        team_id = context.team_id
        if is_slack_id(team_id):
            with db.unit_of_work(readonly=True) as uow:
                disabled = is_disabled(uow, team_id)
            if disabled:
                log.info("ignored a request from uninstalled workspace %s", team_id)
                return BoltResponse(status=200, body="")
        return next()

    return middleware


def _installed(db: Database) -> Callable[[SuccessArgs], BoltResponse]:
    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id, installer = installation.team_id, installation.user_id
        if not team_id:
            # An organisation-wide install; the manifest does not offer one.
            return _failed(_failure(args, "enterprise_install"))
        name = installation.team_name or ""
        try:
            with db.unit_of_work() as uow:
                outcome = record_install(uow, team_id, name, installer)
        except SQLAlchemyError as exc:
            log.error("could not record the install in %s (%s)", team_id, type(exc).__name__)
            return _failed(_failure(args, "storage_error"))
        log.info(
            "%s in workspace %s by %s (role: %s)",
            "re-installed" if outcome.reinstall else "installed",
            team_id,
            installer,
            outcome.role.value if outcome.role else "none",
        )
        body = page(
            "Customer Records is installed",
            f"Customer Records is now part of {name or team_id}. {_access_note(outcome)}",
            link=(f"slack://app?team={team_id}&id={installation.app_id}", "Open Slack"),
        )
        return _page_response(args.settings, 200, body)

    return success


def _access_note(outcome: InstallOutcome) -> str:
    """What the installer can do now: installing grants admin only where there was none."""
    if outcome.made_admin:
        return (
            "You are its admin there. In Slack, type /customers or open the app's Home tab; "
            "add your staff with /customers staff add @name."
        )
    if outcome.role is Role.ADMIN:
        return "You are still one of its admins there."
    if outcome.role is Role.STAFF:
        return "Your access is unchanged: you are staff there."
    return (
        "It already has an admin, so installing did not give you access to its records; "
        "ask an admin to add you with /customers staff add."
    )


def _failure(args: SuccessArgs, reason: str) -> FailureArgs:
    return FailureArgs(
        request=args.request,
        reason=reason,
        suggested_status_code=500 if reason == "storage_error" else 400,
        settings=args.settings,
        default=args.default,
    )


def _failed(args: FailureArgs) -> BoltResponse:
    log.warning("an installation failed: %s", args.reason)
    what = FAILURES.get(args.reason, "The installation could not be completed.")
    body = page(
        "Customer Records was not installed",
        what,
        link=(args.settings.install_path, "Start the installation again"),
    )
    return _page_response(args.settings, args.suggested_status_code, body)


def _page_response(settings: OAuthSettings, status: int, body: str) -> BoltResponse:
    # The state cookie has served its purpose either way.
    cookie = settings.state_utils.build_set_cookie_for_deletion()
    headers: dict[str, str | Sequence[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": cookie,
    }
    return BoltResponse(status=status, headers=headers, body=body)


def page(title: str, message: str, *, link: tuple[str, str] | None = None) -> str:
    """A minimal HTML page for the installer's browser."""
    anchor = f'<p><a href="{html.escape(link[0])}">{html.escape(link[1])}</a></p>' if link else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{anchor}</body></html>"
    )
