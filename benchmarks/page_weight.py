"""Bytes an officer's phone downloads for the home page, measured in Chromium (issue #7).

Targets: ≤ 150 KB transferred on a first visit, ≤ 20 KB on the next. "Transferred" is what
Chromium reports as received on the wire for every request (``Network.loadingFinished`` →
``encodedDataLength``: compressed bodies plus headers), so compression and caching count.

* First visit: a new browser profile (empty cache) opens /login, signs in through the form and
  lands on /home: every request from the first byte to the loaded home page.
* Next visit: the same profile opens /home again later; fingerprinted static files come from
  the cache (a year's lifetime), so only the page itself and uncacheable requests cross.

Used by ``make bench`` (benchmarks/run.py) against the platform it started, and by
tests/e2e/test_page_weight.py against the browser tests' server.

Run by hand against a running server::

    .venv/bin/python -m benchmarks.page_weight http://127.0.0.1:8000 officer tiejun2021
"""
from __future__ import annotations

import json
import os
import sys

FIRST_VISIT_BUDGET = 150 * 1024
NEXT_VISIT_BUDGET = 20 * 1024
#: Issue 16: the ECharts build of the chart pages (assets/echarts-entry.js, on the wire) and a
#: first visit of /reports/ or /study/history with nothing cached (the page, its CSS and scripts).
#: The full ECharts file was 368 KB on the wire; a new chart type or component must fit here.
CHART_BUNDLE_BUDGET = 200 * 1024
CHART_PAGE_BUDGET = 250 * 1024
#: The charts are SVG drawn by the server and ECharts comes after the load event: what a chart
#: page needs up to that event (the page, CSS, app and page scripts; no ECharts) is held to this.
CHART_PAGE_BEFORE_LOAD_BUDGET = 64 * 1024
VIEWPORT = {"width": 360, "height": 640}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class _Wire:
    """Sums received bytes per request from the DevTools protocol."""

    def __init__(self, context, page):
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.cached: set[str] = set()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event) -> None:
        self.bytes[event["requestId"]] = int(event.get("encodedDataLength", 0))

    def reset(self) -> None:
        self.urls.clear()
        self.bytes.clear()
        self.cached.clear()

    def report(self) -> dict:
        # Nothing received (a memory-cache hit) counts as served from the cache.
        cached = self.cached | {rid for rid, n in self.bytes.items() if n == 0}
        rows = sorted(((self.urls.get(rid, "?"), n) for rid, n in self.bytes.items() if rid not in cached),
                      key=lambda r: -r[1])
        return {"bytes": sum(n for _, n in rows), "requests": len(rows), "from_cache": len(cached),
                "largest": [{"url": u.split("?", 1)[0].split("//", 1)[-1].split("/", 1)[-1], "bytes": n}
                            for u, n in rows[:6]]}


def measure(browser, base_url: str, username: str, password: str) -> dict:
    """First and next visit of ``/home`` for one officer in a fresh profile of ``browser``."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url)
    try:
        page = context.new_page()
        wire = _Wire(context, page)
        page.goto("/login", wait_until="networkidle")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation(wait_until="networkidle"):
            page.click("button[type=submit], input[type=submit]")
        if "/home" not in page.url:
            page.goto("/home", wait_until="networkidle")
        first = wire.report()
        wire.reset()
        page.goto("about:blank")
        page.goto("/home", wait_until="networkidle")
        nxt = wire.report()
        return {"first_visit": first, "next_visit": nxt,
                "budget": {"first_visit_bytes": FIRST_VISIT_BUDGET, "next_visit_bytes": NEXT_VISIT_BUDGET}}
    finally:
        context.close()


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    base, user, password = (argv + ["http://127.0.0.1:8000", "officer", "tiejun2021"][len(argv):])[:3]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                    args=CHROMIUM_ARGS)
        try:
            print(json.dumps(measure(browser, base, user, password), ensure_ascii=False, indent=2))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
