"""The floor: the least a correct app must do for a search keystroke or a details-tab switch.

Slack's signed request goes through Bolt (signature check, ack) over waitress; the listener
runs ONE SQL statement (the first 11 matches in name order, through SQLite's FTS5 trigram
table or PostgreSQL's trigram index, with their number up to the cap) and sends the same
hub view the product builds (bot.views.hub) with `views.update` through slack_sdk. It has no
access checks, no estimate of a large total, no logging context and no background workers:
the benchmark in bench/floor.py runs it beside the product to show what those cost.

A tab button in a customer's details is answered the same way: ONE statement for everything
the details show, and the product's own details view (bench/_floor_details.py).

Run as `python -m bench._floor_app --port N` with DATABASE_URL, SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET and SLACK_API_URL set (and PUBLIC_BASE_URL, for the details' chart image
and link), as the product's `serve --http` is.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from typing import Any

import waitress
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bench._floor_details import DetailsFloor
from bot.actions.customer_details import TAB_ACTION
from bot.transport.limits import StartResponse, WsgiApp
from bot.views.hub import PAGE_SIZE, SEARCH_ACTION, SEARCH_MAX, HubState, hub_modal
from bot.views.origin import Tab
from bot.views.tabs import DetailsMeta
from core.config import Settings
from core.db import create_db_engine
from core.models import ConsentState, CustomerStatus
from core.services.customer_search import COUNT_CAP, LETTERS, PUNCTUATION, TRIGRAM, Terms
from core.services.customers import CustomerPage, CustomerRecord
from core.text import like_pattern

COLUMNS = (
    "uid, first_name, last_name, email, mobile, status, version, created_at, updated_at, "
    "updated_by, password_hash IS NOT NULL, anonymised_at, marketing_consent"
)
_AS_LETTERS = str.maketrans(PUNCTUATION, LETTERS)


def _matching(terms: Terms, postgres: bool) -> tuple[str, list[Any]]:
    """The WHERE terms of a match (core.services.customer_search.matches), with an index's."""
    likes = ["customers.name_key LIKE ? ESCAPE '\\'", "customers.email LIKE ? ESCAPE '\\'"]
    params: list[Any] = [like_pattern(terms.folded), like_pattern(terms.email)]
    for number in terms.numbers:
        likes.append("customers.mobile LIKE ? ESCAPE '\\'")
        params.append(like_pattern(number))
    where = f"({' OR '.join(likes)})"
    texts = (terms.folded, terms.email, *terms.numbers)
    if any(len(text) < TRIGRAM or "\x00" in text for text in texts):
        return where, params  # too short for a trigram: read the name index in order
    if postgres:
        if any(letter in terms.email for letter in LETTERS):
            return where, params
        trigram = [
            "customer_search_text(name_key) LIKE ?",
            "customer_search_text(email) LIKE ?",
            *("mobile LIKE ?" for _ in terms.numbers),
        ]
        params += [
            f"%{terms.folded.translate(_AS_LETTERS)}%",
            f"%{terms.email.translate(_AS_LETTERS)}%",
            *(f"%{number}%" for number in terms.numbers),
        ]
        return f"{where} AND ({' OR '.join(trigram)})", params
    columns = [("name_key", terms.folded), ("email", terms.email)]
    columns += [("mobile", number) for number in terms.numbers]
    phrases = " OR ".join(
        f'{name} : "{text.replace(chr(34), chr(34) * 2)}"' for name, text in columns
    )
    return f"{where} AND customer_search MATCH ?", [*params, phrases]


def statement(terms: Terms | None, postgres: bool) -> tuple[str, list[Any]]:
    """The one statement: a page and one more row in name order, with the capped count."""
    where, params = ("1 = 1", []) if terms is None else _matching(terms, postgres)
    source, team, status = "customers", "team_id", "status"
    if "customer_search MATCH" in where:
        # Driven by the FTS table's rows: a unary + keeps SQLite from walking the name index
        # and looking each row up in the FTS table instead.
        source = "customer_search JOIN customers ON customers.id = customer_search.rowid"
        team, status = "+team_id", "+status"
    sql = (
        f"WITH hits AS (SELECT customers.id, customers.name_key FROM {source} "
        f"WHERE {team} = ? AND {status} = ? AND {where} "
        f"ORDER BY customers.name_key, customers.id LIMIT {COUNT_CAP + 1}) "
        f"SELECT {COLUMNS}, (SELECT count(*) FROM hits) FROM "
        f"(SELECT id FROM hits ORDER BY name_key, id LIMIT {PAGE_SIZE + 1}) AS page "
        "JOIN customers ON customers.id = page.id ORDER BY customers.name_key, customers.id"
    )
    if postgres:
        sql = sql.replace("?", "%s")
    return sql, params


def _page(engine: Engine, team_id: str, status: CustomerStatus, text: str) -> CustomerPage:
    sql, params = statement(Terms.parse(text), engine.dialect.name == "postgresql")
    # The driver's own connection: one statement needs no transaction of SQLAlchemy's (which
    # on SQLite the product's engine would begin as a writer's).
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, (team_id, status.value, *params))
        rows = cursor.fetchall()
        cursor.close()
    finally:
        connection.close()
    total = rows[0][-1] if rows else 0
    records = [
        CustomerRecord(
            uid=row[0],
            first_name=row[1],
            last_name=row[2],
            email=row[3],
            mobile=row[4],
            status=CustomerStatus(row[5]),
            version=row[6],
            created_at=row[7],
            updated_at=row[8],
            updated_by=row[9],
            merged_into_uid=None,
            has_password=bool(row[10]),
            anonymised_at=row[11],
            marketing_consent=ConsentState(row[12]),
        )
        for row in rows[:PAGE_SIZE]
    ]
    # Past the cap the floor says only "more than"; the product estimates the number.
    return CustomerPage(records, min(total, COUNT_CAP + 1), 1, PAGE_SIZE, total > COUNT_CAP)


def floor_app(
    url: str, token: str, signing_secret: str, api_url: str, public_base_url: str | None = None
) -> WsgiApp:
    """The floor's WSGI app: Bolt with two listeners, the search keystroke and the details'
    tab button; and /healthz."""
    # The product's engine set-up (SQLite pragmas, PostgreSQL plan settings), the same pool.
    engine = create_db_engine(url, pool_size=8, max_overflow=4)
    # What the details' chart link is signed with and where it (and the customer's link) point.
    settings = Settings(
        _env_file=None,
        database_url=url,
        slack_bot_token=token,
        slack_signing_secret=signing_secret,
        public_base_url=public_base_url,
    )
    details = DetailsFloor(engine, settings)
    app = App(
        token=token,
        signing_secret=signing_secret,
        client=WebClient(token=token, base_url=api_url),
        token_verification_enabled=False,
    )

    @app.action(SEARCH_ACTION)
    def search(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        text = str(body["actions"][0].get("value") or "")[:SEARCH_MAX]
        state = HubState.from_metadata(view.get("private_metadata"))
        state = state.model_copy(update={"q": text, "page": 1})
        page = _page(engine, body["team"]["id"], state.status, text)
        update = hub_modal(state, page, admin=True)
        client.views_update(view_id=view["id"], view=update, hash=view.get("hash"))

    @app.action(TAB_ACTION)
    def tab(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        meta = DetailsMeta.parse(view.get("private_metadata"))
        value = body["actions"][0].get("value")
        if meta is None or value not in set(Tab):
            return
        update = details.view(body["team"]["id"], meta.showing(Tab(value)))
        client.views_update(view_id=view["id"], view=update, hash=view.get("hash"))

    slack = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        return slack(environ, start_response)

    return wsgi


def main() -> None:
    """Serve the floor on loopback until killed."""
    parser = argparse.ArgumentParser(prog="python -m bench._floor_app")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    handler = floor_app(
        os.environ["DATABASE_URL"],
        os.environ["SLACK_BOT_TOKEN"],
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ["SLACK_API_URL"],
        os.environ.get("PUBLIC_BASE_URL") or None,
    )
    # The product's single process has 8 request threads too (bot/transport/server.py).
    waitress.serve(handler, host="127.0.0.1", port=port, threads=8)


if __name__ == "__main__":
    main()
