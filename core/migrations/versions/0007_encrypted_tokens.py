"""encrypted slack tokens and an index on oauth state expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10

The tokens slack_sdk's installation store keeps (bot, and user and refresh tokens where
present) are encrypted with TOKEN_ENCRYPTION_KEY's first key; the app decrypts them on read
(bot/transport/token_store.py). Rows stored before this revision are encrypted here, so the
key must be set when there are any. `slack_oauth_states.expire_at` gets an index for purging
expired states. The downgrade decrypts them again, with any of the keys.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from core.crypto import KEY_VARIABLE, MAKE_A_KEY, TokenCipher
from core.errors import ConfigError

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}
EXPIRY_INDEX = "ix_slack_oauth_states_expire_at"


def upgrade() -> None:
    # Tokens first: without a key this stops before any change to the schema.
    _convert("encrypt", lambda cipher: cipher.encrypt)
    op.create_index(EXPIRY_INDEX, "slack_oauth_states", ["expire_at"])


def downgrade() -> None:
    _convert("decrypt", lambda cipher: cipher.decrypt)
    op.drop_index(EXPIRY_INDEX, table_name="slack_oauth_states")


def _convert(verb: str, how: Callable[[TokenCipher], Callable[[str], str]]) -> None:
    """Rewrite every stored token with `how`; refuse without a key when there is one to rewrite."""
    bind = op.get_bind()
    changes: list[tuple[sa.TableClause, int, dict[str, str]]] = []
    cipher: TokenCipher | None = None
    for name, columns in TOKENS.items():
        table = sa.table(name, sa.column("id", sa.Integer), *(sa.column(c) for c in columns))
        for row in bind.execute(sa.select(table)).mappings():
            values = {c: row[c] for c in columns if row[c]}
            if not values:
                continue
            cipher = cipher or _cipher(verb)
            change = how(cipher)
            changes.append((table, row["id"], {c: change(v) for c, v in values.items()}))
    for table, row_id, values in changes:
        bind.execute(sa.update(table).where(table.c.id == row_id).values(**values))


def _cipher(verb: str) -> TokenCipher:
    keys = context.config.attributes.get("token_keys") or []
    if not keys:
        raise ConfigError(
            f"the database holds Slack tokens, and {KEY_VARIABLE} must be set to {verb} them; "
            f"make a key with: {MAKE_A_KEY}"
        )
    return TokenCipher(keys)
