"""Rich text of study articles, cleaned with nh3 when it is stored (QUALITY decision 9, A24).

The allowlist is what an article needs and nothing else: paragraphs, headings h2–h4, lists,
emphasis, quotes, line breaks, links to http(s) addresses (rel="noopener") and images from this
site. Every attribute not named here (``on*``, ``style``, ``class``…) is dropped, and the content
of ``<script>``/``<style>`` goes with the tag. Templates render the stored value with ``|safe``
because it was cleaned here; nothing else is rendered that way.
"""
from __future__ import annotations

import nh3

TAGS = frozenset({"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "blockquote", "br", "a", "img"})
ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}


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


def clean_html(html: str | None) -> str:
    """The stored form of an article body: allowlisted tags and attributes only."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(attrs) for tag, attrs in ATTRIBUTES.items()},
        attribute_filter=_filter,
        url_schemes={"http", "https"},
        link_rel="noopener",
        strip_comments=True,
    ).strip()
