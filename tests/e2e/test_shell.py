"""The app shell on a 360×640 phone: login, role home pages, tab bar, CSRF meta, CSP, logout, language."""
from __future__ import annotations

import gettext
import warnings
from urllib.parse import urlsplit

import pytest

from .conftest import DEMO_PASSWORD, ROOT, VIEWPORT, login

pytestmark = pytest.mark.e2e

HOMES = {"officer": "/home", "supervisor": "/reports/", "leader": "/reports/", "admin": "/admin/"}
TABS = ("首页", "学习", "考试", "我的")

#: Pages each demo account can open from its navigation (GET only, nothing changes).
PAGES = {
    "officer": ["/home", "/study/", "/exams/", "/exams/mistakes", "/exams/practice", "/notices/",
                "/reports/leaderboard", "/me", "/account/password"],
    "supervisor": ["/reports/", "/reports/?only=exam_not_taken", "/reports/print", "/reports/campaign",
                   "/admin/exams/grants",
                   "/reports/leaderboard", "/me", "/notices/announcements", "/notices/announcements?view=others",
                   "/notices/announcements/new", "/notices/announcements/5"],
    "leader": ["/reports/", "/reports/leaderboard", "/me"],
    "admin": ["/admin/", "/admin/users", "/admin/users/new", "/admin/users/import", "/admin/units",
              "/admin/units/new", "/admin/exams/", "/admin/exams/blueprint", "/admin/questions/",
              "/reports/weights", "/reports/", "/me", "/admin/audit/", "/notices/announcements"],
}

#: Pages that still scroll sideways at 360 px, with the reason; the test xfails (not strict) on
#: them until the template is fixed, and every other check still runs.
KNOWN_OVERFLOW: dict[str, str] = {}


def path_of(page) -> str:
    return urlsplit(page.url).path


def csrf_meta(page) -> str:
    meta = page.locator('meta[name="csrf-token"]')
    assert meta.count() == 1, f"{page.url}: no <meta name=csrf-token>"
    return meta.get_attribute("content") or ""


def inside_viewport(box: dict | None) -> bool:
    return (box is not None and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= VIEWPORT["width"] + 0.5
            and box["y"] + box["height"] <= VIEWPORT["height"] + 0.5)


def horizontal_overflow(page) -> list[str]:
    """The elements sticking out past the right edge of the phone (empty = no sideways scrolling)."""
    return page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth <= root.clientWidth) return [];
        return [...document.body.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > root.clientWidth + 0.5)
            .map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> right=${Math.round(e.getBoundingClientRect().right)}`
                      + ` "${(e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60)}"`);
    }""")


def slug(path: str) -> str:
    return path.strip("/").replace("/", "_") or "root"


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_home(page, page_log, screens, role):
    """Each role lands on its own home page after login; only officers get the bottom tab bar."""
    login(page, role)
    assert path_of(page) == HOMES[role]
    page.screenshot(path=str(screens / f"{role}_home.png"), full_page=True)
    tabbar = page.locator("nav.app-tabbar")
    if role == "officer":
        assert tabbar.is_visible()
        assert inside_viewport(tabbar.bounding_box()), tabbar.bounding_box()
        for label in TABS:
            item = tabbar.locator(".weui-tabbar__item", has_text=label)
            assert item.is_visible(), label
            assert inside_viewport(item.bounding_box()), (label, item.bounding_box())
    else:
        assert tabbar.count() == 0
    page_log.assert_clean()


def test_wrong_password_stays_on_login_with_chinese_error(page, page_log, screens):
    """Login page: a wrong password shows 账号或密码不正确 and stays on /login."""
    page.goto("/login")
    page.screenshot(path=str(screens / "login.png"), full_page=True)
    assert csrf_meta(page)
    login(page, "leader", DEMO_PASSWORD + "x")
    assert path_of(page) == "/login"
    assert "账号或密码不正确" in page.locator(".app-flash--error").inner_text()
    assert page.locator("#username").is_visible()
    page.screenshot(path=str(screens / "login_error.png"), full_page=True)
    page_log.assert_clean()


@pytest.mark.parametrize("role", list(PAGES))
def test_pages_have_csrf_meta_and_no_console_csp_or_foreign_requests(page, page_log, screens, role):
    """Every page carries a CSRF meta token, fits 360 px; no console error, CSP violation, broken static file or foreign host."""
    page.goto("/login")
    assert csrf_meta(page)
    login(page, role)
    known = []
    for path in PAGES[role]:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        assert path_of(page) == urlsplit(path).path
        page.screenshot(path=str(screens / f"{role}_{slug(path)}.png"), full_page=True)
        assert csrf_meta(page), f"{path}: empty csrf-token"
        sticking_out = horizontal_overflow(page)
        if sticking_out and path in KNOWN_OVERFLOW:
            known.append(f"{path}: {KNOWN_OVERFLOW[path]}")
        else:
            assert not sticking_out, f"{path} scrolls sideways at 360 px:\n" + "\n".join(sticking_out[:12])
    page_log.assert_clean()
    assert any("/static/" in u for u in page_log.requests), "no static file was loaded at all"
    if known:
        pytest.xfail("known layout bug: " + "; ".join(known))


def test_logout_from_me_ends_the_session(page, page_log):
    """Logout (我的 → 退出登录) ends the session: /home then redirects to /login."""
    login(page, "officer")
    page.locator("nav.app-tabbar .weui-tabbar__item", has_text="我的").click()
    page.wait_for_url("**/me")
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()
    assert path_of(page) == "/login"
    page.goto("/home")
    assert path_of(page) == "/login"
    assert page.locator("#password").is_visible()
    page_log.assert_clean()


def _english_sign_in_label() -> str | None:
    """The compiled English text for 登 录, or None when the catalogue is not compiled yet."""
    mo = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.mo"
    if not mo.exists():
        return None
    with open(mo, "rb") as fh:
        text = gettext.GNUTranslations(fh).gettext("登 录")
    return None if text == "登 录" else text


def test_language_switch_to_english(page, page_log, screens):
    """Language switch: the English button on the login page turns the page to English (html lang=en)."""
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert path_of(page) == "/login"
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(screens / "login_en.png"), full_page=True)
    button = page.locator("form.login-card button[type=submit]").inner_text().strip()
    if _english_sign_in_label() is not None:
        assert button != "登 录"
    else:
        warnings.warn("app/translations/en/LC_MESSAGES/messages.mo has no translation of 登 录; "
                      "run `make translations`")
    page_log.assert_clean()
