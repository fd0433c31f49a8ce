"""Fixtures for fault tests: a private PostgreSQL cluster the test may stop and start."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from core.db import Database
from tests.conftest import make_settings
from tests.pg_cluster import PrivateCluster, unavailable_reason


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PrivateCluster]:
    """A started private cluster for this module; skipped where it cannot run, except in CI."""
    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"private PostgreSQL cluster unavailable in CI: {reason}")
        pytest.skip(reason)
    with PrivateCluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def cluster_url(pg_cluster: PrivateCluster) -> str:
    """The private cluster's database, migrated once for the module."""
    db = Database(make_settings(pg_cluster.url))
    try:
        db.upgrade()
    finally:
        db.dispose()
    return pg_cluster.url


@pytest.fixture
def running_cluster(pg_cluster: PrivateCluster) -> Iterator[PrivateCluster]:
    """The cluster, started again after a test that stopped it, whatever the test's outcome."""
    pg_cluster.start()
    try:
        yield pg_cluster
    finally:
        pg_cluster.start()
