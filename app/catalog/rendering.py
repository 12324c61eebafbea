"""Lesson Markdown to safe HTML (rendered once, at save time), and video embed links from allowed hosts."""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import parse_qs, urlsplit

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
        "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p",
        "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# Relative links (other lessons, /media/…) are allowed; absolute ones only on these schemes.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Tags removed together with what they contain (the rest keep their text).
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript"})


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML passed through to the sanitiser, plus tables and strikethrough.
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """CommonMark → HTML → allow-list sanitiser: no script, no event handlers, no `javascript:` URLs."""
    return render_rich(text)


def markdown_to_html(text: str, *, inline: bool = False) -> str:
    """CommonMark → HTML, not yet sanitised (that happens when it is shown, by `render_rich`)."""
    return _markdown().renderInline(text) if inline else _markdown().render(text)


def render_rich(text: str, text_format: str = "markdown", *, inline: bool = False) -> str:
    """Trainer text in its format (Markdown, or HTML such as Moodle's question exports) → the same sanitised
    HTML as lessons. `inline`: a fragment such as a quiz option (no paragraph around it)."""
    if not text.strip():
        return ""
    if text_format == "html":
        return sanitise_html(text)
    return sanitise_html(markdown_to_html(text, inline=inline))


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
_VIMEO_ID = re.compile(r"^\d{3,12}$")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}
_YOUTUBE_NOCOOKIE_HOSTS = {"youtube-nocookie.com", "www.youtube-nocookie.com"}
_VIMEO_HOSTS = {"player.vimeo.com", "vimeo.com", "www.vimeo.com"}
EMBED_HOSTS = frozenset(_YOUTUBE_HOSTS | _YOUTUBE_NOCOOKIE_HOSTS | _VIMEO_HOSTS)


def embed_url(url: str) -> str | None:
    """The player URL for a video link on an allowed host, or None.

    YouTube links (watch, youtu.be, embed, shorts) become privacy-enhanced youtube-nocookie embeds;
    Vimeo links become player.vimeo.com embeds. Anything else is refused.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.password or parts.port:
        return None
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    video_id: str | None = None
    if host in _YOUTUBE_HOSTS or host in _YOUTUBE_NOCOOKIE_HOSTS:
        if host == "youtu.be" and segments:
            video_id = segments[0]
        elif segments[:1] == ["watch"]:
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) >= 2 and segments[0] in ("embed", "shorts", "live"):
            video_id = segments[1]
        if video_id and _YOUTUBE_ID.match(video_id):
            return f"https://www.youtube-nocookie.com/embed/{video_id}"
        return None
    if host in _VIMEO_HOSTS:
        if host == "player.vimeo.com" and len(segments) >= 2 and segments[0] == "video":
            video_id = segments[1]
        elif host != "player.vimeo.com" and segments:
            video_id = segments[-1]
        if video_id and _VIMEO_ID.match(video_id):
            return f"https://player.vimeo.com/video/{video_id}"
    return None
