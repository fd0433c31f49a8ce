"""The private cluster really stops and starts, on its own port, without touching the shared server."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.pg_cluster import PrivateCluster


def test_stop_and_start_keep_the_url(pg_cluster: PrivateCluster) -> None:
    engine = create_engine(pg_cluster.url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW port")).scalar() == str(pg_cluster.port)
        pg_cluster.stop()
        with pytest.raises(OperationalError), engine.connect():
            pass
        pg_cluster.start()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_commit_survives_a_crash_restart(pg_cluster: PrivateCluster) -> None:
    engine = create_engine(pg_cluster.url, pool_pre_ping=True)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS kept (n int)"))
            conn.execute(text("INSERT INTO kept VALUES (1)"))
        pg_cluster.restart(mode="immediate")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM kept")).scalar() == 1
            conn.execute(text("DROP TABLE kept"))
            conn.commit()
    finally:
        engine.dispose()
