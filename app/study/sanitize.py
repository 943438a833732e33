"""Rich text of study articles and announcements, cleaned with nh3 when it is stored (QUALITY
decision 9, A24).

The allowlist is what an article needs and nothing else: paragraphs, headings h2–h4, lists,
bold, italic, quotes, line breaks, links to http(s) addresses (rel="noopener") and images from
this site. Every attribute not named here (``on*``, ``style``, ``class``…) is dropped, and the
content of ``<script>``/``<style>`` goes with the tag. Templates render the stored value with
``|safe`` because it was cleaned here; nothing else is rendered that way.

The editor (Quill 2, wired by ``app/static/js/editor.js``) writes a subset of this list:
``EDITOR_TAGS``, serialised exactly as ``clean_html`` serialises them, so what it saves is stored
byte for byte (``tests/test_editor.py``). ``<b>``, ``<i>`` and ``<br>`` are kept for HTML written
by hand or pasted without JavaScript; the editor reads them as bold, italic and a new line.

Plain text (no paragraph, heading, list or quote after cleaning: a body typed into the bare
textarea, or stored before the editor) becomes one paragraph per line, so blank-line paragraphs
stay paragraphs instead of running into one block. ``editor.js`` reads such a body by the same
rule.
"""
from __future__ import annotations

import re

import nh3

TAGS = frozenset({"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "b", "em", "i", "blockquote", "br", "a", "img"})
ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
#: What the editor's toolbar and serialiser can produce (its ``formats``): no ``b``/``i``/``br``.
EDITOR_TAGS = frozenset({"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "blockquote", "a", "img"})
#: Tags that make a body "structured"; a body with none of them is plain text.
BLOCK_RE = re.compile(r"<(?:p|h[2-4]|ul|ol|li|blockquote)[\s>]")
#: A tag in nh3's output: it escapes "<" and ">" inside attribute values, so a tag ends at the first ">".
_TAG_RE = re.compile(r"(<[^>]*>)")
_LINE_BREAK_RE = re.compile(r"\s*\n\s*")
_EMPTY_P_RE = re.compile(r"<p>\s*</p>")


def _same_site(url: str) -> bool:
    """A path on this site: starts with one "/" (not "//" or "/\\", which browsers read as
    another host)."""
    return url.startswith("/") and not url.startswith(("//", "/\\"))


def _filter(tag: str, attr: str, value: str) -> str | None:
    value = value.strip()
    if tag == "a" and attr == "href":
        return value if value.lower().startswith(("http://", "https://")) else None
    if tag == "img" and attr == "src":
        return value if _same_site(value) else None
    return value


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(attrs) for tag, attrs in ATTRIBUTES.items()},
        attribute_filter=_filter,
        url_schemes={"http", "https"},
        link_rel="noopener",
        strip_comments=True,
    ).strip()


def _paragraphs(cleaned: str) -> str:
    """One ``<p>`` per non-blank line of a cleaned plain-text body; newlines inside tags are
    left alone, and an inline tag that spans a line break is closed and reopened by the second
    cleaning (HTML's own rules for misnested formatting). Paragraphs are joined by a newline,
    as the editor writes them."""
    parts = [part if part.startswith("<") else _LINE_BREAK_RE.sub("</p><p>", part) for part in _TAG_RE.split(cleaned)]
    html = _EMPTY_P_RE.sub("", _settled("<p>" + "".join(parts) + "</p>"))
    return html.replace("</p><p>", "</p>\n<p>").strip()


def _settled(html: str) -> str:
    """Cleaned until cleaning changes nothing. Removing a tag can leave a nesting that parses
    differently when read back (``<h3><u><h3>`` leaves an h3 inside an h3, which a browser, and
    the next cleaning, reads as two); one more pass settles it."""
    cleaned = _clean(html)
    for _ in range(3):
        again = _clean(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


def clean_html(html: str | None) -> str:
    """The stored form of an article body: allowlisted tags and attributes only; plain text
    as one paragraph per line. Idempotent: cleaning a stored body changes nothing, so a body
    saved again untouched stays byte for byte the same."""
    if not html:
        return ""
    cleaned = _settled(html)
    if cleaned and not BLOCK_RE.search(cleaned):
        cleaned = _paragraphs(cleaned)
    return cleaned
