"""Page weight of the officer's home page in Chromium (issue #7 targets, measured by bytes)."""
from __future__ import annotations

from benchmarks.page_weight import FIRST_VISIT_BUDGET, NEXT_VISIT_BUDGET, measure

from .conftest import DEMO_PASSWORD


def test_home_page_weight_first_and_next_visit(browser, live_server):
    """Issue #7: /home costs ≤ 150 KB on a first visit (login included) and ≤ 20 KB on the next: compressed, cached static files."""
    result = measure(browser, live_server, "officer", DEMO_PASSWORD)
    first, nxt = result["first_visit"], result["next_visit"]
    assert first["bytes"] <= FIRST_VISIT_BUDGET, first
    assert nxt["bytes"] <= NEXT_VISIT_BUDGET, nxt
    # The next visit fetches only the page: every static file comes from the cache.
    assert not [r for r in nxt["largest"] if r["url"].startswith("static/")], nxt
