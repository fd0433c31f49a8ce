"""A stateful Stripe stand-in (localstripe) on loopback, reached through the real `stripe` client.

Import both fixtures into a test module (the second resets the first before each test):

    from tests.stripe_server import stripe_process, stripe_server  # noqa: F401

`stripe_server` is a `StripeStandIn`: `gateway()` builds the app's `StripeGateway` against it,
`payment()` makes a succeeded payment intent, `refunds()` reads what the stand-in holds,
`calls()` which key each API call came with, `connect_code()` a Stripe Connect authorization
code (`POST /oauth/token` and `/oauth/deauthorize` answer as Stripe's Connect OAuth does),
`pay_checkout()` plays the customer paying a Checkout Session (which the stand-in adds to
localstripe). As Stripe does, refunds and Checkout Sessions paid or expired are events listed at
`GET /v1/events` (localstripe lists its own: payments, subscriptions created or cancelled).
The stand-in ignores idempotency keys and accepts a refund of more than was paid, so what it
holds is what our own guards let through.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.adapters.payments import StripeGateway

HOST = "127.0.0.1"
# Any key starting with sk_ satisfies the stand-in; a fake one keeps real keys out of tests.
API_KEY = "sk_test_standin"
START_DEADLINE = 20.0

# localstripe's own CLI binds every interface and reloads a pickle from /tmp; this serves the
# same app on loopback only, from an empty store, and stops it writing that shared pickle.
_SERVE = """
import secrets
import sys
import secrets
import time
from aiohttp import ClientSession, web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.server import app, get_post_data, unflatten_data
resources.Store.dump_to_disk = lambda self: None
store = resources.store

class Shown:
    # A dict the stand-in keeps, as an event's data.object.
    def __init__(self, data):
        self.data = dict(data)
    def _export(self):
        return self.data

def emit(kind, obj):
    # As Stripe does, each change is an event listed at GET /v1/events (none is delivered).
    resources.Event(kind, obj if hasattr(obj, "_export") else Shown(obj))

make_refund = resources.Refund.__init__
def refund_and_emit(self, *args, **kwargs):
    make_refund(self, *args, **kwargs)
    emit("charge.refunded", resources.Charge._api_retrieve(self.charge))
resources.Refund.__init__ = refund_and_emit

# Which key (and Connect account) each call came with, so tests can tell studios' calls apart.
seen = []
# Calls the stand-in makes to itself (paying a Checkout Session) are not the app's calls.
INTERNAL = "X-Stand-In-Internal"

@web.middleware
async def remember_keys(request, handler):
    if not request.path.startswith("/_") and INTERNAL not in request.headers:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seen.append([request.method, request.path, key, request.headers.get("Stripe-Account", "")])
    return await handler(request)

async def keys(request):
    return web.json_response({"calls": seen})

async def forget(request):
    seen.clear()
    return web.json_response({})

# Connect OAuth as Stripe answers it: codes a test minted (each works once) and the accounts
# connected to the platform.
codes, connected = {}, set()

def oauth_error(status, error, description):
    return web.json_response({"error": error, "error_description": description}, status=status)

async def mint_code(request):
    account = "acct_" + secrets.token_hex(8)
    code = "ac_" + secrets.token_hex(12)
    codes[code] = account
    return web.json_response({"code": code, "stripe_user_id": account})

async def oauth_token(request):
    form = await request.post()
    if form.get("grant_type") != "authorization_code":
        return oauth_error(400, "unsupported_grant_type", "Only authorization_code is served here.")
    code = form.get("code", "")
    account = codes.pop(code, None)
    if account is None:
        return oauth_error(400, "invalid_grant", f"Authorization code does not exist: {code}")
    connected.add(account)
    return web.json_response({
        "access_token": "sk_test_" + secrets.token_hex(12),
        "livemode": False,
        "refresh_token": "rt_" + secrets.token_hex(12),
        "scope": "read_write",
        "stripe_publishable_key": "pk_test_" + secrets.token_hex(12),
        "stripe_user_id": account,
        "token_type": "bearer",
    })

async def oauth_deauthorize(request):
    form = await request.post()
    account = form.get("stripe_user_id", "")
    if not form.get("client_id", "").startswith("ca_"):
        return oauth_error(401, "invalid_client", "No such application: " + form.get("client_id", ""))
    if account not in connected:
        return oauth_error(
            401,
            "invalid_client",
            f"This application is not connected to stripe account {account}, "
            "or that account does not exist.",
        )
    connected.discard(account)
    return web.json_response({"stripe_user_id": account})

async def connections(request):
    return web.json_response({"connected": sorted(connected)})

async def forget_oauth(request):
    codes.clear()
    connected.clear()
    return web.json_response({})

# Checkout Sessions, which localstripe lacks: kept in its store (so DELETE /_config/data
# forgets them) in Stripe's documented shape. They expire through /expire only: the app's
# clock in tests is not the real one, so `expires_at` is as the app asked.

def error(status, message, kind="invalid_request_error", code=None):
    body = {"type": kind, "message": message}
    if code:
        body["code"] = code
    return web.json_response({"error": body}, status=status)

def stored(session_id):
    return store.get("checkout.session:" + session_id)

def priced(line):
    if not isinstance(line, dict) or str(line.get("quantity", "1")) != "1":
        raise ValueError("each line item needs quantity 1")
    if line.get("price"):
        plan = resources.Plan._api_retrieve(line["price"])
        return plan.amount, plan.currency, plan.interval
    data = line.get("price_data") or {}
    amount = int(data.get("unit_amount", ""))
    if amount < 1 or not data.get("currency") or not (data.get("product_data") or {}).get("name"):
        raise ValueError("price_data needs currency, a positive unit_amount and product_data[name]")
    return amount, data["currency"], None

async def create_session(request):
    data = await get_post_data(request) or {}
    body = await request.text()
    key = request.headers.get("Idempotency-Key")
    earlier = store.get("idempotency:" + key) if key else None
    if earlier is not None:
        if earlier[0] != body:
            return error(400, "Keys for idempotent requests can only be used with the same "
                         "parameters they were first used with.", "idempotency_error")
        return web.json_response(stored(earlier[1]))
    mode = data.get("mode")
    lines = data.get("line_items")
    if mode not in ("payment", "subscription") or not data.get("success_url"):
        return error(400, "Missing required param: mode and success_url.", code="parameter_missing")
    try:
        if not isinstance(lines, list) or len(lines) != 1:
            raise ValueError("give exactly one line item")
        amount, currency, interval = priced(lines[0])
        if (interval is None) != (mode == "payment"):
            raise ValueError("subscription mode needs a recurring price, payment mode none")
        expires_at = int(data.get("expires_at") or time.time() + 86400)
    except ValueError as exc:
        return error(400, f"Invalid line_items or expires_at: {exc}", code="parameter_invalid")
    session_id = "cs_test_" + secrets.token_hex(24)
    session = {
        "id": session_id, "object": "checkout.session", "mode": mode, "status": "open",
        "payment_status": "unpaid", "amount_subtotal": amount, "amount_total": amount,
        "currency": currency, "customer": None, "customer_email": data.get("customer_email"),
        "client_reference_id": data.get("client_reference_id"),
        "metadata": data.get("metadata") or {}, "payment_intent": None, "subscription": None,
        "success_url": data["success_url"], "cancel_url": data.get("cancel_url"),
        "created": int(time.time()), "expires_at": expires_at, "livemode": False,
        "url": "https://checkout.stripe.com/c/pay/" + session_id,
    }
    store["checkout.session:" + session_id] = session
    if mode == "subscription":
        store["checkout.price:" + session_id] = lines[0]["price"]
    if key:
        store["idempotency:" + key] = (body, session_id)
    return web.json_response(session)

async def retrieve_session(request):
    session = stored(request.match_info["id"])
    if session is None:
        return error(404, "No such checkout.session: " + request.match_info["id"], code="resource_missing")
    expand = unflatten_data(request.query).get("expand") or []
    if "subscription" in expand and session["subscription"]:
        subscription = resources.Subscription._api_retrieve(session["subscription"])
        return web.json_response({**session, "subscription": subscription._export()})
    return web.json_response(session)

async def expire_session(request):
    session = stored(request.match_info["id"])
    if session is None:
        return error(404, "No such checkout.session: " + request.match_info["id"], code="resource_missing")
    if session["status"] != "open":
        return error(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
    session["status"] = "expired"
    emit("checkout.session.expired", session)
    return web.json_response(session)

async def pay_session(request):
    # The customer pays: a real succeeded payment intent, or a subscription whose first
    # invoice is paid, made through the stand-in's own API.
    session = stored(request.match_info["id"])
    if session is None or session["status"] != "open":
        return error(400, "Only an open Checkout Session can be paid.")
    headers = {"Authorization": request.headers["Authorization"], INTERNAL: "1"}
    base = f"http://{request.host}"
    async with ClientSession(headers=headers) as client:
        async def call(path, form):
            async with client.post(base + path, data=form) as answer:
                found = await answer.json()
                if answer.status != 200:
                    raise UserError(answer.status, str(found))
                return found
        card = await call("/v1/payment_methods", [
            ("type", "card"), ("card[number]", "4242424242424242"), ("card[exp_month]", "12"),
            ("card[exp_year]", "2040"), ("card[cvc]", "123")])
        if session["mode"] == "payment":
            intent = await call("/v1/payment_intents", [
                ("amount", str(session["amount_total"])), ("currency", session["currency"]),
                ("payment_method", card["id"]), ("confirm", "true")]
                + [(f"metadata[{k}]", v) for k, v in session["metadata"].items()])
            session["payment_intent"] = intent["id"]
        else:
            customer = await call("/v1/customers", [("email", session["customer_email"] or "")])
            await call(f"/v1/payment_methods/{card['id']}/attach", [("customer", customer["id"])])
            await call(f"/v1/customers/{customer['id']}",
                       [("invoice_settings[default_payment_method]", card["id"])])
            price = store["checkout.price:" + session["id"]]
            subscription = await call("/v1/subscriptions", [
                ("customer", customer["id"]), ("items[0][plan]", price)]
                + [(f"metadata[{k}]", v) for k, v in session["metadata"].items()])
            session["customer"], session["subscription"] = customer["id"], subscription["id"]
    session["status"], session["payment_status"] = "complete", "paid"
    emit("checkout.session.completed", session)
    return web.json_response(session)

async def forget_events(request):
    for key in [k for k in store.keys() if k.startswith("event:")]:
        del store[key]
    return web.json_response({})

app.middlewares.insert(0, remember_keys)
app.router.add_delete("/_test/events", forget_events)
app.router.add_get("/_test/calls", keys)
app.router.add_delete("/_test/calls", forget)
app.router.add_post("/oauth/token", oauth_token)
app.router.add_post("/oauth/deauthorize", oauth_deauthorize)
app.router.add_post("/_test/oauth/codes", mint_code)
app.router.add_get("/_test/oauth/connected", connections)
app.router.add_delete("/_test/oauth", forget_oauth)
app.router.add_post("/v1/checkout/sessions", create_session)
app.router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
app.router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
app.router.add_post("/_test/checkout/{id}/complete", pay_session)
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), print=None, access_log=None)
"""


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class StandInError(RuntimeError):
    """The stand-in answered a helper's request with an error status."""


class StripeStandIn:
    """One localstripe process on 127.0.0.1 and raw helpers that bypass the app's gateway."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """STRIPE_API_BASE for this stand-in."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Launch on a free port and wait until it answers; retry if another process took the port."""
        for _ in range(3):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                    [sys.executable, "-c", _SERVE, HOST, str(self.port)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_until_ready():
                return
            self.stop()
        log_tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"localstripe did not start; its output:\n{log_tail}")

    def _wait_until_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                self.request("GET", "/v1/balance")
            except (OSError, StandInError):
                time.sleep(0.05)
                continue
            return True
        return False

    def stop(self) -> None:
        """Terminate the process (kill it if it does not stop promptly)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None

    def reset(self) -> None:
        """Forget every object (the stand-in's DELETE /_config/data), every call seen and every
        Connect code and connection."""
        self.request("DELETE", "/_config/data")
        self.request("DELETE", "/_test/calls")
        self.request("DELETE", "/_test/oauth")

    def connect_code(self) -> tuple[str, str]:
        """A Connect authorization code, as Stripe's consent page gives one, and its account."""
        minted = self.request("POST", "/_test/oauth/codes", [])
        return str(minted["code"]), str(minted["stripe_user_id"])

    def connected_accounts(self) -> list[str]:
        """The accounts connected to the platform (exchanged and not deauthorized)."""
        return [str(a) for a in self.request("GET", "/_test/oauth/connected")["connected"]]

    def calls(self) -> list[tuple[str, str, str, str]]:
        """Each API call since the reset: method, path, the key it came with, its Stripe-Account."""
        return [tuple(call) for call in self.request("GET", "/_test/calls")["calls"]]  # type: ignore[misc]

    def request(
        self, method: str, path: str, data: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """One raw call to the stand-in; form-encoded like Stripe's API, JSON back."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL we built
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise StandInError(f"{method} {path} → {exc.code}: {exc.read()[:300]!r}") from None
        return json.loads(raw) if raw.strip() else {}

    # -- what tests set up ---------------------------------------------------------

    def gateway(self, *, timeout: float = 5.0, max_network_retries: int = 0) -> StripeGateway:
        """The app's gateway pointed at this stand-in (no retries unless asked: tests stay fast)."""
        return StripeGateway(
            API_KEY, self.url, timeout=timeout, max_network_retries=max_network_retries
        )

    def card(self) -> str:
        """A card payment method that pays without authentication (4242 4242 4242 4242)."""
        method = self.request(
            "POST",
            "/v1/payment_methods",
            [
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2040"),
                ("card[cvc]", "123"),
            ],
        )
        return str(method["id"])

    def payment(self, amount_minor: int, currency: str = "gbp") -> str:
        """The id of a succeeded payment intent of `amount_minor`."""
        intent = self.request(
            "POST",
            "/v1/payment_intents",
            [
                ("amount", str(amount_minor)),
                ("currency", currency),
                ("payment_method", self.card()),
                ("confirm", "true"),
            ],
        )
        assert intent["status"] == "succeeded", intent
        return str(intent["id"])

    def subscription(self, amount_minor: int = 8900, currency: str = "gbp") -> str:
        """The id of an active monthly subscription, its first invoice paid by card."""
        product = self.request("POST", "/v1/products", [("name", "Unlimited Monthly")])
        plan = self.request(
            "POST",
            "/v1/plans",
            [
                ("product", product["id"]),
                ("amount", str(amount_minor)),
                ("currency", currency),
                ("interval", "month"),
            ],
        )
        customer = self.request("POST", "/v1/customers", [("email", "ada@example.com")])
        method = self.card()
        self.request("POST", f"/v1/payment_methods/{method}/attach", [("customer", customer["id"])])
        self.request(
            "POST",
            f"/v1/customers/{customer['id']}",
            [("invoice_settings[default_payment_method]", method)],
        )
        subscription = self.request(
            "POST",
            "/v1/subscriptions",
            [("customer", customer["id"]), ("items[0][plan]", plan["id"])],
        )
        assert subscription["status"] == "active", subscription
        return str(subscription["id"])

    def price(self, amount_minor: int = 6000, currency: str = "gbp") -> str:
        """The id (price_…) of a monthly recurring price, for subscription-mode Checkout."""
        product = self.request("POST", "/v1/products", [("name", "Unlimited monthly")])
        plan = self.request(
            "POST",
            "/v1/plans",
            [
                ("id", f"price_{product['id'].removeprefix('prod_')}"),
                ("product", product["id"]),
                ("amount", str(amount_minor)),
                ("currency", currency),
                ("interval", "month"),
            ],
        )
        return str(plan["id"])

    def pay_checkout(self, session_id: str) -> dict[str, Any]:
        """The customer pays the open Checkout Session; the session as Stripe then shows it."""
        return self.request("POST", f"/_test/checkout/{session_id}/complete", [])

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """Stripe expires the session (as it does at `expires_at`); the session as it then is."""
        return self.request("POST", f"/v1/checkout/sessions/{session_id}/expire", [])

    def checkout(self, session_id: str, *, expand: bool = False) -> dict[str, Any]:
        """A Checkout Session as the stand-in holds it (its subscription expanded if asked)."""
        query = "?expand[]=subscription" if expand else ""
        return self.request("GET", f"/v1/checkout/sessions/{session_id}{query}")

    def forget_events(self) -> None:
        """Stripe's events so far pass out of its 30 days: no longer listed."""
        self.request("DELETE", "/_test/events")

    # -- what tests inspect --------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        """The events Stripe lists now, newest first."""
        listing = self.request("GET", "/v1/events?limit=100")
        events: list[dict[str, Any]] = listing["data"]
        return events

    def refunds(self, payment_intent_id: str) -> list[dict[str, Any]]:
        """Every refund the stand-in holds for the payment intent, newest first."""
        listing = self.request(
            "GET",
            "/v1/refunds?"
            + urllib.parse.urlencode({"payment_intent": payment_intent_id, "limit": "100"}),
        )
        refunds: list[dict[str, Any]] = listing["data"]
        return refunds

    def subscription_status(self, subscription_id: str) -> str:
        """The stand-in's status of a subscription ('active', 'canceled', …)."""
        return str(self.request("GET", f"/v1/subscriptions/{subscription_id}")["status"])


@pytest.fixture(scope="session")
def stripe_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeStandIn]:
    """One stand-in process for the test session (per xdist worker)."""
    stand_in = StripeStandIn(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
def stripe_server(stripe_process: StripeStandIn) -> StripeStandIn:
    """The session's stand-in, emptied before this test."""
    stripe_process.reset()
    return stripe_process
