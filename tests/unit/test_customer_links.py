"""Customer links: made from PUBLIC_BASE_URL, and only this deployment's read back as UIDs."""

from __future__ import annotations

import pytest

from core.customer_links import customer_link, uid_in_path, uid_of_link

BASE = "https://records.example.test"
UID = "0123456789AB"


def test_a_link_is_made_only_with_a_public_base_url() -> None:
    assert customer_link(BASE + "/", UID) == f"{BASE}/c/{UID}"
    assert customer_link(None, UID) is None


@pytest.mark.parametrize(
    ("base", "url", "uid"),
    [
        (BASE, f"{BASE}/c/{UID}", UID),
        (BASE, f"{BASE}/c/{UID.lower()}/", UID),
        ("https://host.test/records", f"https://host.test/records/c/{UID}", UID),
        (BASE, f"https://elsewhere.test/c/{UID}", None),
        (BASE, f"{BASE}/x/{UID}", None),
        (BASE, f"{BASE}/c/{UID}I", None),  # no I, L, O or U in a UID
        (BASE, f"{BASE}/c/ILOU56789ABC", None),
        (BASE, f"javascript://records.example.test/c/{UID}", None),
        (None, f"{BASE}/c/{UID}", None),
        (BASE, "http://[::1", None),
    ],
)
def test_only_this_deployments_links_name_a_uid(
    base: str | None, url: str, uid: str | None
) -> None:
    assert uid_of_link(base, url) == uid


def test_a_path_names_a_uid_only_under_c() -> None:
    assert uid_in_path(f"/c/{UID}") == UID
    assert uid_in_path(f"/charts/{UID}") is None
    assert uid_in_path("/c/") is None
