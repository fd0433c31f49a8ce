"""Stripe Connect OAuth with the official client: the authorize URL a studio's admin follows, the
code exchanged for the studio's account, and deauthorizing it; failures become PaymentError."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.adapters.payments import PaymentError
from core.config import Settings

if TYPE_CHECKING:
    import stripe
else:
    from core.adapters import stripe_sdk as stripe


CALLBACK_PATH = "/stripe/connect/callback"
# The browser waits on the exchange, and no database lock is held meanwhile: one short try.
TIMEOUT = 8.0


class StripeConnect:
    """The platform's OAuth calls; the platform's secret key authenticates them."""

    def __init__(
        self,
        client_id: str,
        platform_key: str,
        *,
        api_base: str | None = None,
        redirect_uri: str | None = None,
    ) -> None:
        # A stand-in serves both the API and Connect's OAuth under one base.
        base = api_base.rstrip("/") if api_base else None
        self._client = stripe.StripeClient(
            platform_key,
            client_id=client_id,
            base_addresses={"api": base, "connect": base} if base else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=TIMEOUT),
        )
        self._redirect_uri = redirect_uri

    def authorize_url(self, state: str) -> str:
        """Stripe's consent page for a studio's account, returning with `state`."""
        params: stripe.OAuth.OAuthAuthorizeUrlParams = {"scope": "read_write", "state": state}
        if self._redirect_uri:
            params["redirect_uri"] = self._redirect_uri
        return self._client.oauth.authorize_url(params)

    def exchange(self, code: str) -> str:
        """The id of the account that granted `code`; PaymentError saying why not."""
        try:
            token = self._client.oauth.token({"grant_type": "authorization_code", "code": code})
        except stripe.oauth_error.InvalidGrantError:
            raise PaymentError(
                "Stripe did not accept the authorization (it expired or was already used), so "
                "the studio's account was not connected."
            ) from None
        except stripe.StripeError as exc:
            raise PaymentError(
                f"{_reason(exc)}, so the studio's account was not connected. Try again in a minute."
            ) from None
        # The access token Stripe also returns is never kept: the platform key acts instead.
        return token.stripe_user_id or ""

    def deauthorize(self, account_id: str) -> None:
        """Disconnect `account_id` from the platform; one no longer connected counts as done.

        PaymentError's message says why Stripe did not, as a clause."""
        try:
            self._client.oauth.deauthorize({"stripe_user_id": account_id})
        except stripe.oauth_error.InvalidClientError as exc:
            # Stripe's answer when the account already left the platform (Stripe's dashboard).
            if "not connected" not in (exc.user_message or ""):
                raise PaymentError(_reason(exc)) from None
        except stripe.StripeError as exc:
            raise PaymentError(_reason(exc)) from None


def _reason(exc: stripe.StripeError) -> str:
    """Why an OAuth call failed, as a clause; never Stripe's text, which can echo the code."""
    if isinstance(exc, stripe.APIConnectionError):
        return "Stripe couldn't be reached"
    if isinstance(exc, stripe.AuthenticationError | stripe.oauth_error.InvalidClientError):
        return (
            "Stripe did not accept the platform's key or Connect client id (whoever runs the "
            "server needs to check STRIPE_API_KEY and STRIPE_CONNECT_CLIENT_ID)"
        )
    return "Stripe refused the request"


def connect_from_settings(settings: Settings) -> StripeConnect | None:
    """Stripe Connect for this deployment; None unless STRIPE_CONNECT_CLIENT_ID is set."""
    client_id, platform = settings.stripe_connect_client_id, settings.stripe_api_key
    if client_id is None or platform is None:
        return None
    public = (settings.public_base_url or "").rstrip("/")
    return StripeConnect(
        client_id,
        platform.get_secret_value(),
        api_base=settings.stripe_api_base,
        redirect_uri=public + CALLBACK_PATH if public else None,
    )
