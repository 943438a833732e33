"""First visit of the chart pages on a cheap phone, measured in Chromium (issue 16, point 7).

Target: /reports/ (supervisor) and /study/history (officer) show their charts within 1.5 s of
navigation start on a phone four times slower than this machine's CPU, on a 1.6 Mbps / 750 kbps
link with 150 ms latency, with nothing cached. A PDF study item (the demo's 应知应会口袋书, first
page drawn by PDF.js) is measured the same way for comparison; it has no target here.

How: gunicorn serves a fresh demo SQLite database exactly as the browser tests do
(tests/e2e/conftest.py: ``db upgrade``, ``seed demo``, ``wsgi:app``); Debian's Chromium is
driven by Playwright at 360×640. Each run uses a new browser profile: the login page is opened
and the form sent without throttling (not measured); then the DevTools protocol turns on
``Emulation.setCPUThrottlingRate`` (rate 4), ``Network.emulateNetworkConditions`` (200,000 B/s
down, 93,750 B/s up, 150 ms latency) and ``Network.setCacheDisabled`` (a first visit: every
static file crosses the wire again), and the page is opened.

"Chart drawn" is the time since navigation start (``performance.now()`` in the page) of the
animation frame right after the page's first chart entered the document, and no earlier than the
page's first paint (``first-contentful-paint``: until the stylesheets arrive nothing is
painted); a script installed before the page's first byte (``RECORD``) notes the moments, so they
do not depend on when the polling starts. Charts are inline SVG drawn by the server
(app/templates/_macros/charts.html), so that is their first paint; the container carries a
static ``data-drawn``. "Every chart drawn" is the frame after the HTML is parsed (every chart in).
"Interactive" is when ECharts, fetched only after the page's ``load``
event (App.upgradeCharts in app/static/js/app.js), has redrawn every chart with tooltips and set
``data-live`` (assets/echarts-entry.js); it has no target. For the PDF item "drawn" is the moment
the first page is rendered (PDF.js hides the loading line). "Bytes" is what Chromium received on
the wire for the page until the chart was drawn (``encodedDataLength``: compressed bodies and
headers), from the same counter as the page-weight test (benchmarks/page_weight.py); "bytes to
interactive" counts the bundle too.

Builds from before the SVG charts (ECharts drawing at parse time, ``data-drawn`` set by the
bundle) are measured with ``--marker echarts``: every container carrying ``data-drawn``.

Run (writes the "Cheap phone" section of benchmarks/RESULTS.md and NOTES.md unless ``--print``)::

    .venv/bin/python benchmarks/slow_phone.py            # or: make bench-phone
    .venv/bin/python benchmarks/slow_phone.py --runs 9 --print
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.page_weight import CHROMIUM_ARGS, VIEWPORT, _Wire  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "tiejun2021"
TARGET_MS = 1500
CPU_SLOWDOWN = 4
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 200_000, "uploadThroughput": 93_750}
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NOTES = ROOT / "benchmarks" / "NOTES.md"
BEGIN, END = "<!-- slow-phone:begin -->", "<!-- slow-phone:end -->"

#: (label, account, path or None for the PDF item, target in ms or None)
PAGES = [
    ("/reports/ (supervisor)", "supervisor", "/reports/", TARGET_MS),
    ("/study/history (officer)", "officer", "/study/history", TARGET_MS),
    # An officer's page (12-week bars): the first officer of the supervisor's 学习未达标 list.
    ("/reports/officers/{id} (supervisor)", "supervisor", "officer-page", TARGET_MS),
    ("PDF study item (officer, 口袋书 page 1)", "officer", None, None),
    # The floor: a page without a chart, to its load event (what any page costs on this link).
    ("/home (officer, no chart: load event)", "officer", "/home", None),
]

# Installed before the page's first byte (add_init_script), so the times do not depend on when
# Playwright's polling starts: the animation frame after the first chart SVG entered the document
# (painted right after it), the frame after the HTML was parsed (every chart in), and the moment
# the last chart got data-live (ECharts' canvas complete).
RECORD = """
window.__charts = {};
(function () {
  const frame = (key) => requestAnimationFrame(() => { if (!window.__charts[key]) { window.__charts[key] = performance.now(); } });
  new MutationObserver((_, obs) => {
    if (document.querySelector('[data-chart][data-drawn] svg')) { obs.disconnect(); frame('first'); }
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', () => frame('all'));
  new MutationObserver(() => {
    const els = Array.from(document.querySelectorAll('[data-chart]'));
    if (els.length && els.every((el) => el.hasAttribute('data-live')) && !window.__charts.live) {
      window.__charts.live = performance.now();
    }
  }).observe(document, { attributes: true, attributeFilter: ['data-live'], subtree: true });
})();
"""
# A recorded moment, no earlier than the first paint (nothing is on screen before it).
CHART_AT = """(key) => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0], at = window.__charts && window.__charts[key];
  if (!fcp || !at || (key === 'all' && !document.querySelector('[data-chart]'))) { return false; }
  return key === 'live' ? at : Math.max(at, fcp.startTime);
}"""
# Builds before the SVG charts: every container carries data-drawn (set by the bundle).
ALL_DRAWN = """() => {
  const els = Array.from(document.querySelectorAll('[data-chart]'));
  if (!els.length || document.readyState === 'loading') { return false; }
  return els.every((el) => el.hasAttribute('data-drawn')) ? performance.now() : false;
}"""
LOADED = "() => document.readyState === 'complete' ? performance.now() : false"
PDF_DRAWN = """() => {
  const s = document.querySelector('#st-doc .st-doc__status');
  return document.querySelector('#st-doc canvas.st-doc__page') && s && s.hidden ? performance.now() : false;
}"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def demo_server():
    """gunicorn (2 workers) on a freshly migrated and seeded SQLite file, as the browser tests run it."""
    with tempfile.TemporaryDirectory(prefix="slow-phone-") as tmp:
        env = dict(os.environ)
        env.update(APP_ENV="development", DATABASE_URL=f"sqlite:///{tmp}/demo.db", DEMO_PASSWORD=PASSWORD,
                   SECRET_KEY="".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(48)),
                   INSTANCE_PATH=f"{tmp}/instance",
                   # Every visit computes its dashboard: no run is flattered by the one before it.
                   REPORTS_CACHE_SECONDS="0")
        env.pop("FLASK_DEBUG", None)
        for args in (["db", "upgrade"], ["seed", "demo"]):
            subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                           capture_output=True, timeout=300)
        port = _free_port()
        env.update(HOST="127.0.0.1", PORT=str(port))
        with open(f"{tmp}/gunicorn.log", "wb") as out:
            proc = subprocess.Popen([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2",
                                     "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/login", timeout=2):
                        break
                except (urllib.error.URLError, OSError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(Path(f"{tmp}/gunicorn.log").read_text(errors="replace")) from None
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _login(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _pdf_item_path(page) -> str:
    items = page.request.get("/api/v1/study/items?module=theory").json()["items"]
    item = next(i for i in items if i["kind"] == "document" and "口袋书" in i["title"])
    return f"/study/items/{item['id']}"


def _officer_page_path(page) -> str:
    page.goto("/reports/?only=target_not_met")
    return page.locator("a[href*='/reports/officers/']").first.get_attribute("href")


def visit(browser, base: str, username: str, path: str | None, marker: str) -> dict:
    """One first visit of ``path`` on the emulated phone: ms to the first chart drawn, to every chart
    drawn and to the interactive charts; bytes and requests until the first chart was drawn."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base)
    try:
        page = context.new_page()
        _login(page, username)
        path = _officer_page_path(page) if path == "officer-page" else (path or _pdf_item_path(page))
        # Staff land on the dashboard, whose ECharts comes after its load event: let that finish
        # before the link is throttled, or it would share the measured page's bandwidth.
        page.wait_for_load_state("networkidle")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", NETWORK)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        wire = _Wire(context, page)
        page.add_init_script(RECORD)
        page.goto(path, wait_until="commit")
        all_ms = live_ms = live_bytes = None
        if path.startswith("/study/items/"):
            ms = page.wait_for_function(PDF_DRAWN, polling="raf", timeout=60_000).json_value()
        elif path == "/home":
            ms = page.wait_for_function(LOADED, polling="raf", timeout=60_000).json_value()
        elif marker == "echarts":
            ms = all_ms = page.wait_for_function(ALL_DRAWN, polling="raf", timeout=60_000).json_value()
        else:
            ms = page.wait_for_function(CHART_AT, arg="first", polling="raf", timeout=60_000).json_value()
        got = wire.report()
        if marker == "svg" and path not in ("/home",) and not path.startswith("/study/items/"):
            all_ms = page.wait_for_function(CHART_AT, arg="all", polling="raf", timeout=60_000).json_value()
            live_ms = page.wait_for_function(CHART_AT, arg="live", polling="raf", timeout=60_000).json_value()
            live_bytes = wire.report()["bytes"]
        ttfb = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseStart")
        scripts = page.evaluate("() => Array.from(document.scripts).map((s) => s.src.split('/').pop().split('?')[0])")
        return {"ms": round(ms), "ttfb_ms": round(ttfb), "all_ms": all_ms and round(all_ms), "live_ms": live_ms and round(live_ms),
                "live_bytes": live_bytes, "bytes": got["bytes"], "requests": got["requests"], "largest": got["largest"][:3],
                "scripts": [s for s in scripts if s]}
    finally:
        context.close()


def measure(runs: int, marker: str) -> dict:
    from playwright.sync_api import sync_playwright

    out = {"runs": runs, "marker": marker, "cpu_slowdown": CPU_SLOWDOWN, "network": NETWORK, "pages": [],
           "load_before": os.getloadavg()[0]}
    with demo_server() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                    args=CHROMIUM_ARGS)
        try:
            visit(browser, base, "officer", "/study/history", marker)  # warm the server's workers and files
            for label, user, path, target in PAGES:
                got = [visit(browser, base, user, path, marker) for _ in range(runs)]
                ms = [g["ms"] for g in got]
                row = {"page": label, "median_ms": round(statistics.median(ms)), "max_ms": max(ms), "all_ms": ms,
                       "bytes": round(statistics.median(g["bytes"] for g in got)),
                       "requests": got[0]["requests"], "largest": got[0]["largest"], "scripts": got[0]["scripts"],
                       "target_ms": target, "ttfb_median_ms": round(statistics.median(g["ttfb_ms"] for g in got))}
                if got[0]["all_ms"] is not None:
                    row["all_median_ms"] = round(statistics.median(g["all_ms"] for g in got))
                if got[0]["live_ms"] is not None:
                    row["live_median_ms"] = round(statistics.median(g["live_ms"] for g in got))
                    row["live_max_ms"] = max(g["live_ms"] for g in got)
                    row["live_bytes"] = round(statistics.median(g["live_bytes"] for g in got))
                row["met"] = None if target is None else row["max_ms"] < target
                out["pages"].append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
        finally:
            browser.close()
    out["load_after"] = os.getloadavg()[0]
    return out


def section(res: dict) -> str:
    """The generated part of the "Cheap phone" section (between the markers)."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [BEGIN, f"Last run: {when}, `benchmarks/slow_phone.py --runs {res['runs']}` "
             f"(CPU ÷{res['cpu_slowdown']}, 1.6 Mbps / 750 kbps, 150 ms, empty cache; machine load average "
             f"{res['load_before']:.1f} → {res['load_after']:.1f} on {os.cpu_count()} cores).", "",
             "| page | first chart drawn, median ms | max ms | target | met? | every chart drawn, median ms "
             "| page's first byte, median ms | KB on the wire (to drawn) | requests | largest "
             "| interactive (ECharts), median / max ms | KB to interactive |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["pages"]:
        met = "—" if r["met"] is None else ("**met**" if r["met"] else "**missed**")
        big = ", ".join(f"{x['url'].rstrip('/').split('/')[-1]} {x['bytes'] / 1024:.0f} KB" for x in r["largest"])
        target = f"< {r['target_ms']}" if r["target_ms"] else "—"
        every = r.get("all_median_ms", "—")
        live = f"{r['live_median_ms']} / {r['live_max_ms']}" if "live_median_ms" in r else "—"
        live_kb = f"{r['live_bytes'] / 1024:.0f}" if "live_bytes" in r else "—"
        lines.append(f"| {r['page']} | {r['median_ms']} | {r['max_ms']} | {target} | {met} | {every} | "
                     f"{r['ttfb_median_ms']} | "
                     f"{r['bytes'] / 1024:.0f} | {r['requests']} | {big} | {live} | {live_kb} |")
    return "\n".join(lines + [END])


def write(res: dict) -> None:
    """Replace the generated block in RESULTS.md and NOTES.md (`make bench` rebuilds RESULTS.md with
    NOTES.md at its end, so the section lives in both)."""
    block = section(res)
    for path in (RESULTS, NOTES):
        text = path.read_text()
        if BEGIN in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
        else:
            text = text.rstrip() + "\n\n## Cheap phone: first visit to the chart drawn (issue 16)\n\n" + block + "\n"
        path.write_text(text)
        print(f"updated {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("PHONE_RUNS", "5")))
    parser.add_argument("--marker", choices=["svg", "echarts"], default="svg",
                        help="svg: the server's SVG charts painted (and ECharts' upgrade after load); "
                             "echarts: builds before the SVG charts, data-drawn set by the bundle")
    parser.add_argument("--print", action="store_true", help="print the results only; change no file")
    cli = parser.parse_args(argv)
    res = measure(cli.runs, cli.marker)
    if not cli.print:
        write(res)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0 if all(r["met"] is not False for r in res["pages"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
