"""The soak: mixed Slack interactions through two app workers on PostgreSQL, faults injected.

Run with `python -m tests.soak --minutes 30` (what `make soak` does); not collected by pytest.
"""
