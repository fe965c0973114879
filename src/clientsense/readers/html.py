"""HTML bodies to plain text with the standard library's parser.

Block elements become line breaks, ``<blockquote>`` content and the quote containers of Gmail,
Outlook, Yahoo, Apple Mail and Thunderbird become ``> ``-prefixed lines, so the plain-text quote
stripper handles HTML replies the same way it handles plain ones.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "xml", "o:p"})
_BLOCK = frozenset(
    {
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "pre", "hr", "section", "article", "header", "footer", "dl", "dt", "dd", "blockquote", "center",
    }
)  # fmt: skip
_QUOTE_CLASS = re.compile(
    r"gmail_quote|yahoo_quoted|moz-cite-prefix|OutlookMessageHeader|divRplyFwdMsg|appendonsend|"
    r"OLK_SRC_BODY_SECTION|AppleOriginalContents|protonmail_quote|zmail_extra",
    re.IGNORECASE,
)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"})
_WS = re.compile(r"[ \t\r\n\f\u00a0]+")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.skip = 0
        self.quote = 0
        self.stack: list[tuple[str, bool]] = []  # (tag, opened a quote)
        self.pre = 0

    def _flush(self) -> None:
        text = "".join(self.cur)
        if not self.pre:
            text = _WS.sub(" ", text).strip()
        self.cur = []
        if text or (self.lines and self.lines[-1] != ""):
            prefix = "> " * self.quote
            self.lines.append(prefix + text if text else ("" if not self.quote else prefix.rstrip()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip += 1
                self.stack.append((tag, False))
            return
        if tag in _BLOCK:
            self._flush()
        if tag == "hr":
            self.lines.append("> " * self.quote + "________________________________")
        if tag in _VOID:
            return
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id", "name"))
        opens = tag == "blockquote" or bool(marks and _QUOTE_CLASS.search(marks))
        if tag == "blockquote" and "type" in dict(attrs) and dict(attrs)["type"] != "cite" and not marks:
            opens = True
        if opens:
            self.quote += 1
        if tag == "pre":
            self.pre += 1
        self.stack.append((tag, opens))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() in ("br", "hr"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            t, opened = self.stack.pop()
            if t in _SKIP:
                self.skip -= 1
            elif t in _BLOCK or opened:
                self._flush()
            if opened:
                self.quote -= 1
            if t == "pre":
                self.pre -= 1
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.cur.append(data)

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines).strip("\n")


_TAG_RE = re.compile(r"<\s*(html|body|div|p|br|table|span|font|a|b|i|blockquote)\b[^>]*>", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """True when ``text`` carries HTML markup (a few structural tags)."""
    return len(_TAG_RE.findall(text[:20000])) >= 2


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; never raises on malformed markup."""
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
        return unescape(re.sub(r"<[^>]+>", " ", html))
    return parser.text()
