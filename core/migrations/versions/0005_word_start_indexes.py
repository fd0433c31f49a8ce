"""word-start indexes for search on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Search ranks names with a word starting with the text, then emails starting with it, ahead of
other matches. Found through a trigram index, thousands of such matches (every Smith, every
zoe.… address) meant a table read each before the first ten by name were known. Here they are
ranges of B-tree indexes holding the name key: the second word of the name, and the email. The
third and later words, rarely there, keep a small trigram index of their own. SQLite (FTS5) is
unchanged. core/services/customer_search.py is what queries them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQL functions are inlined, so the planner matches queries to the indexes below.
FUNCTIONS = {
    # "zoe van dyke" → "van dyke"; NULL for a one-word name.
    "customer_second_words": "SELECT CASE WHEN strpos($1, ' ') > 0 "
    "THEN substr($1, strpos($1, ' ') + 1) END",
    # "zoe van dyke" → " dyke", from the second space on; NULL with fewer than three words.
    "customer_third_words": "SELECT CASE WHEN strpos(substr($1, strpos($1, ' ') + 1), ' ') > 0 "
    "THEN substr($1, strpos($1, ' ') + strpos(substr($1, strpos($1, ' ') + 1), ' ')) END",
}

# name_key is COLLATE "C" already; the email is compared by code point as the name is.
INDEXES = {
    "ix_customers_second_word": "CREATE INDEX ix_customers_second_word ON customers "
    "(team_id, status, customer_second_words(name_key)) INCLUDE (name_key, id)",
    "ix_customers_email_start": "CREATE INDEX ix_customers_email_start ON customers "
    '(team_id, status, email COLLATE "C") INCLUDE (name_key, id, mobile)',
    "ix_customers_third_words_trgm": "CREATE INDEX ix_customers_third_words_trgm ON customers "
    "USING gin ((customer_search_text(customer_third_words(name_key))) gin_trgm_ops) "
    "WHERE customer_third_words(name_key) IS NOT NULL",
}
# Replaced: its matches are now the second word's range and the third words' index.
NAME_TAIL_INDEX = "ix_customers_name_tail_trgm"
NAME_TAIL = "customer_search_text(substr(name_key, strpos(name_key, ' ')))"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name, body in FUNCTIONS.items():
        bind.exec_driver_sql(
            f"CREATE FUNCTION {name}(text) RETURNS text "
            f"LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ {body} $$"
        )
    for statement in INDEXES.values():
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql(f"DROP INDEX IF EXISTS {NAME_TAIL_INDEX}")
    bind.exec_driver_sql("ANALYZE customers")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {NAME_TAIL_INDEX} ON customers "
        f"USING gin (({NAME_TAIL}) gin_trgm_ops)"
    )
    for name in INDEXES:
        bind.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    for name in FUNCTIONS:
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}(text)")
