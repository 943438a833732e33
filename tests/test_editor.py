"""The rich-text editor and the nh3 allow-list agree (issue 16 point 4): everything the editor
can write is stored byte for byte, everything it cannot write is removed, plain text keeps its
paragraphs, and the editor is served only to the office's editing pages. The editor itself runs in
tests/e2e/test_editor.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.db import db
from app.models import StudyItem
from app.study.sanitize import EDITOR_TAGS, TAGS, clean_html
from tests.test_study_credit import logged_in

ROOT = Path(__file__).resolve().parent.parent
EDITOR_JS = ROOT / "app" / "static" / "js" / "editor.js"

#: Every shape editor.js's toHtml() writes: one block per line, lists one item per line, <a>
#: outside <strong> outside <em>, text escaped as html5ever escapes it, images with alt.
EDITOR_OUTPUT = [
    "<p>段落</p>",
    "<h2>二级</h2>\n<h3>三级</h3>\n<h4>四级</h4>",
    "<p>普通<strong>加粗</strong><em>斜体</em><strong><em>粗斜</em></strong></p>",
    "<ol>\n<li>一</li>\n<li><strong>二</strong>：说明</li>\n</ol>\n<ul>\n<li>甲</li>\n</ul>",
    "<blockquote>引用<em>原话</em></blockquote>",
    '<p><a href="https://www.12389.gov.cn/a?x=1&amp;y=%E4%B8%AD" rel="noopener">网址<strong>粗</strong></a></p>',
    '<p><a href="http://intranet.example/" rel="noopener"><strong><em>内网</em></strong></a>后文</p>',
    '<p><img src="/static/img/badge.svg" alt="警徽 &quot;图&quot; &amp; 说明"><img src="/media/x.png" alt=""></p>',
    '<p>&lt;script&gt; &amp; "引号" \'单引号\' &nbsp; 空格  两个</p>',
]


def editor_formats() -> list[str]:
    """The ``FORMATS`` list of editor.js (what Quill may produce)."""
    found = re.search(r"var FORMATS = (\[[^\]]*\]);", EDITOR_JS.read_text(encoding="utf-8"))
    return json.loads(found.group(1))


@pytest.mark.parametrize("html", EDITOR_OUTPUT)
def test_what_the_editor_writes_is_stored_byte_for_byte(html):
    """Each shape the editor's serialiser writes is a fixed point of clean_html (nothing dropped, nothing rewritten)."""
    assert clean_html(html) == html


def test_editor_formats_are_the_allow_lists_tags():
    """editor.js offers exactly the formats whose tags the allow-list keeps (EDITOR_TAGS ⊆ TAGS); a format added to one without the other fails here."""
    tags_of = {"header": {"h2", "h3", "h4"}, "bold": {"strong"}, "italic": {"em"}, "list": {"ol", "ul", "li"},
               "blockquote": {"blockquote"}, "link": {"a"}, "image": {"img"}}
    formats = editor_formats()
    assert set(formats) == set(tags_of)
    assert {"p"}.union(*(tags_of[f] for f in formats)) == EDITOR_TAGS
    assert EDITOR_TAGS <= TAGS
    assert TAGS - EDITOR_TAGS == {"b", "i", "br"}  # kept for hand-written HTML only


@pytest.mark.parametrize("html, kept", [
    ("<p><b>粗</b>与<i>斜</i></p>", "<p><b>粗</b>与<i>斜</i></p>"),  # the help text promises bold
    ("<p>一<br>二</p>", "<p>一<br>二</p>"),
    ("<h1>一级</h1><h5>五级</h5>", "<p>一级五级</p>"),
    ('<ol><li data-list="bullet" class="x">Quill 的原始列表</li></ol>', "<ol><li>Quill 的原始列表</li></ol>"),
    ('<p><u>下划线</u><s>删除</s><span style="color:red" class="ql-size-large">红字</span><code>代码</code></p>',
     "<p>下划线删除红字代码</p>"),
    ('<p><a href="mailto:x@example.com">邮件</a><a href="/study/">站内</a><a href="javascript:alert(1)">脚本</a></p>',
     '<p><a rel="noopener">邮件</a><a rel="noopener">站内</a><a rel="noopener">脚本</a></p>'),
    ('<p><img src="data:image/png;base64,AAAA" alt="a"><img src="https://evil.example/x.png" alt="b">'
     '<img src="//evil.example/x.png" alt="c"></p>', '<p><img alt="a"><img alt="b"><img alt="c"></p>'),
    ("<table><tr><td>表</td></tr></table><pre>预</pre><iframe src=/home></iframe><script>x()</script>",
     "<p>表预</p>"),
])
def test_what_the_editor_cannot_write_is_removed(html, kept):
    """Formats outside the toolbar (h1/h5, underline, colours, classes, Quill's data-list, tables, code, mailto and relative links, foreign images, scripts) lose their markup; <b>, <i> and <br> stay."""
    assert clean_html(html) == kept


@pytest.mark.parametrize("text, stored", [
    ("第一段。\n\n第二段。", "<p>第一段。</p>\n<p>第二段。</p>"),
    ("\r\n  第一段\r\n\r\n\r\n第二段  \r\n", "<p>第一段</p>\n<p>第二段</p>"),
    ("一行\n二行", "<p>一行</p>\n<p>二行</p>"),
    ("请<strong>按时\n\n参加</strong>学习", "<p>请<strong>按时</strong></p>\n<p><strong>参加</strong>学习</p>"),
    ('<a href="https://x.example/">链接</a>\n\n<img src="/a.png" alt="多\n行">',
     '<p><a href="https://x.example/" rel="noopener">链接</a></p>\n<p><img src="/a.png" alt="多\n行"></p>'),
    ("<h3>有结构的</h3>\n\n松散文字\n\n<p>段</p>", "<h3>有结构的</h3>\n\n松散文字\n\n<p>段</p>"),
    ("<script>x()</script>\n\n", ""),
])
def test_plain_text_keeps_its_paragraphs(text, stored):
    """A body without block tags becomes one paragraph per non-blank line (a tag spanning a blank line is closed and reopened; newlines inside tags stay); a structured body is left as it is."""
    assert clean_html(text) == stored


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["<p>", "</p>", "<h3>", "</h3>", "<ul>", "<li>", "</ul>", "<b>", "</b>", "<strong>",
                                 "</strong>", "<em>", "<br>", '<a href="https://x.example/">', "</a>",
                                 '<img src="/a.png" alt="x">', "<script>", "<u>", "\n", "\n\n", " ", "文字", "&",
                                 "<", ">", '"', "\u00a0"]), max_size=30).map("".join))
def test_cleaning_a_stored_body_changes_nothing(html):
    """clean_html is idempotent: a stored body re-saved untouched (or opened in the editor and saved) stays the same."""
    once = clean_html(html)
    assert clean_html(once) == once


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(MEDIA_DIR=str(tmp_path / "media"))


def content_form(body: str) -> dict:
    return {"title": "纯文本文章", "summary": "", "module": "warning", "kind": "article", "stage": "study",
            "credited_minutes": "3", "required": "y", "target_unit_id": "0", "publish_at": "", "unpublish_at": "",
            "sort_order": "0", "body": body, "media_url": ""}


def test_content_form_stores_plain_text_as_paragraphs_and_serves_the_editor(app, city, auth):
    """The content form (the textarea without JavaScript) stores blank-line paragraphs as <p> and <b> as bold; its pages load the editor, the officer's reader does not."""
    admin = logged_in(app, auth, "admin")
    resp = admin.post("/admin/content/new", data=content_form("第一段，<b>重点</b>。\n\n第二段。"),
                      content_type="multipart/form-data")
    assert resp.status_code == 302
    item_id = int(re.search(r"/admin/content/(\d+)$", resp.headers["Location"]).group(1))
    with app.app_context():
        assert db.session.scalar(select(StudyItem.body_html).where(StudyItem.id == item_id)) == \
            "<p>第一段，<b>重点</b>。</p>\n<p>第二段。</p>"
    for path in ("/admin/content/new", f"/admin/content/{item_id}", "/notices/announcements/new"):
        page = admin.get(path).get_data(as_text=True)
        assert "vendor/quill/quill.js" in page and "js/editor.js" in page and "vendor/quill/quill.snow.css" in page, path
        assert 'class="app-field ed' in page and "data-editor" in page, path
    admin.post(f"/admin/content/{item_id}/publish", data={"action": "publish"})
    reader = logged_in(app, auth, "officer").get(f"/study/items/{item_id}").get_data(as_text=True)
    assert "<p>第一段，<b>重点</b>。</p>" in reader
    assert "quill" not in reader and "editor.js" not in reader


def test_announcement_html_keeps_paragraphs(app, city, auth):
    """An announcement in 图文 format typed as plain text keeps its blank-line paragraphs."""
    admin = logged_in(app, auth, "admin")
    resp = admin.post("/notices/announcements/new", data={
        "title": "段落通知", "body": "第一段。\n\n第二段。", "body_format": "html",
        "target_unit_id": str(city.station_a1), "audience": "officers"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    from app.models import Announcement
    with app.app_context():
        assert db.session.scalar(select(Announcement.body).where(Announcement.title == "段落通知")) == \
            "<p>第一段。</p>\n<p>第二段。</p>"


def test_editor_is_pinned_and_vendored():
    """Quill is pinned to one exact 2.x version in package.json and the lock, and `make assets` copies it into the generated vendor folder."""
    version = json.loads((ROOT / "package.json").read_text())["dependencies"]["quill"]
    assert re.fullmatch(r"2\.\d+\.\d+", version), version
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"]["quill"] == version
    assert lock["packages"]["node_modules/quill"]["version"] == version
    makefile = (ROOT / "Makefile").read_text()
    assert "node_modules/quill/dist/quill.js node_modules/quill/dist/quill.snow.css" in makefile
    assert "app/static/vendor/" in (ROOT / ".gitignore").read_text().split()
