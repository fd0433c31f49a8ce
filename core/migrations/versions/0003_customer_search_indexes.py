"""customer search indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

PostgreSQL: pg_trgm GIN indexes over the customers' name, name after its first word, email and
mobile. SQLite: an FTS5 trigram table and per-status customer counts, kept by triggers. Both are
built from the rows already there. core/services/customer_search.py is what queries them.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_trgm reads punctuation as a gap between words, so "j.mu" would look up words starting
# with "mu". Each ASCII punctuation mark becomes its own CJK compatibility ideograph, a letter
# to pg_trgm that normalised text (NFC emails, NFKD name keys) never holds. Must match
# core/services/customer_search.py, which a test checks.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
LETTERS = "".join(chr(0xF900 + n) for n in range(len(PUNCTUATION)))

PG_INDEXES = {
    "ix_customers_name_trgm": "customer_search_text(name_key)",
    # From the first space on: matches of "a later word starting with …" without the first
    # name, which would otherwise drown a surname lookup ("% zoe%" vs every Zoe).
    "ix_customers_name_tail_trgm": "customer_search_text(substr(name_key, strpos(name_key, ' ')))",
    "ix_customers_email_trgm": "customer_search_text(email)",
    "ix_customers_mobile_trgm": "mobile",
}

# Each customer's FTS5 row: the name key, the name from its first space on, the email after a
# space (so "starts with" is a substring too) and the mobile.
SQLITE_SEARCH = [
    # Contentless: the customers table holds the text; this holds only the trigram index.
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "name_key, name_tail, email, mobile, content='', tokenize='trigram')",
    "INSERT INTO customer_search (rowid, name_key, name_tail, email, mobile) "
    "SELECT id, name_key, substr(name_key, instr(name_key, ' ')), ' ' || email, mobile "
    "FROM customers",
    "CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customer_search (rowid, name_key, name_tail, email, mobile) VALUES "
    "(new.id, new.name_key, substr(new.name_key, instr(new.name_key, ' ')), ' ' || new.email, "
    "new.mobile); END",
    # A contentless table forgets a row only when told exactly what was indexed for it.
    "CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN "
    "INSERT INTO customer_search (customer_search, rowid, name_key, name_tail, email, mobile) "
    "VALUES ('delete', old.id, old.name_key, substr(old.name_key, instr(old.name_key, ' ')), "
    "' ' || old.email, old.mobile); END",
    "CREATE TRIGGER customers_search_update AFTER UPDATE OF name_key, email, mobile ON customers "
    "BEGIN "
    "INSERT INTO customer_search (customer_search, rowid, name_key, name_tail, email, mobile) "
    "VALUES ('delete', old.id, old.name_key, substr(old.name_key, instr(old.name_key, ' ')), "
    "' ' || old.email, old.mobile); "
    "INSERT INTO customer_search (rowid, name_key, name_tail, email, mobile) VALUES "
    "(new.id, new.name_key, substr(new.name_key, instr(new.name_key, ' ')), ' ' || new.email, "
    "new.mobile); END",
]

# How many customers each workspace has per status, so the unfiltered list's total costs one
# row read instead of counting an index range.
SQLITE_COUNTS = [
    "CREATE TABLE customer_counts (team_id VARCHAR(32) NOT NULL, status VARCHAR(16) NOT NULL, "
    "total INTEGER NOT NULL, PRIMARY KEY (team_id, status)) WITHOUT ROWID",
    "INSERT INTO customer_counts (team_id, status, total) "
    "SELECT team_id, status, count(*) FROM customers GROUP BY team_id, status",
    "CREATE TRIGGER customers_count_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customer_counts (team_id, status, total) VALUES (new.team_id, new.status, 1) "
    "ON CONFLICT (team_id, status) DO UPDATE SET total = total + 1; END",
    "CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN "
    "UPDATE customer_counts SET total = total - 1 "
    "WHERE team_id = old.team_id AND status = old.status; END",
    "CREATE TRIGGER customers_count_update AFTER UPDATE OF team_id, status ON customers "
    "WHEN old.team_id IS NOT new.team_id OR old.status IS NOT new.status BEGIN "
    "UPDATE customer_counts SET total = total - 1 "
    "WHERE team_id = old.team_id AND status = old.status; "
    "INSERT INTO customer_counts (team_id, status, total) VALUES (new.team_id, new.status, 1) "
    "ON CONFLICT (team_id, status) DO UPDATE SET total = total + 1; END",
]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _require_pg_trgm(bind: Connection) -> None:
    if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").scalar():
        return
    database = bind.exec_driver_sql("SELECT current_database()").scalar()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        raise RuntimeError(
            f"Customer search needs the PostgreSQL extension pg_trgm, and this database user may "
            f"not create it ({str(exc.orig).strip().splitlines()[0]}). Ask a superuser (or the "
            f'database owner) to run  CREATE EXTENSION pg_trgm;  in database "{database}", then '
            "run `customer-bot db upgrade` again."
        ) from exc


def _upgrade_postgresql(bind: Connection) -> None:
    _require_pg_trgm(bind)
    # A plain SQL function is inlined, so the planner matches queries to the indexes below.
    # (text() rather than exec_driver_sql: the driver would read the "%" as a placeholder.)
    bind.execute(
        text(
            "CREATE FUNCTION customer_search_text(text) RETURNS text "
            "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
            f"$$ SELECT translate($1, {_sql_literal(PUNCTUATION)}, {_sql_literal(LETTERS)}) $$"
        )
    )
    for name, expression in PG_INDEXES.items():
        bind.exec_driver_sql(
            f"CREATE INDEX {name} ON customers USING gin (({expression}) gin_trgm_ops)"
        )
    # Statistics on the index expressions let the planner estimate matches (and counts).
    bind.exec_driver_sql("ANALYZE customers")


def _upgrade_sqlite(bind: Connection) -> None:
    for statement in SQLITE_SEARCH + SQLITE_COUNTS:
        bind.exec_driver_sql(statement)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _upgrade_postgresql(bind)
    else:
        _upgrade_sqlite(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in PG_INDEXES:
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS customer_search_text(text)")
        # pg_trgm stays: other schemas in the database may use it.
        return
    for trigger in ("search_insert", "search_delete", "search_update"):
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS customers_{trigger}")
    for trigger in ("count_insert", "count_delete", "count_update"):
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS customers_{trigger}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS customer_search")
    bind.exec_driver_sql("DROP TABLE IF EXISTS customer_counts")
