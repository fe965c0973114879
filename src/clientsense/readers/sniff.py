"""What kind of export a path is, decided by content first and by extension only as a hint."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .html import looks_like_html
from .mailbox import BOM, _is_separator, is_maildir

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
KINDS = ("maildir", "directory", "mbox", "eml", "msg", "parquet", "jsonl", "csv", "html", "text", "empty")
_HEADER = re.compile(rb"^([!-9;-~]{1,76})[ \t]*:")
_KNOWN = {
    b"from", b"to", b"subject", b"date", b"received", b"return-path", b"message-id", b"mime-version",
    b"content-type", b"delivered-to", b"cc", b"reply-to", b"sender", b"in-reply-to", b"references",
    b"x-mailer", b"content-transfer-encoding", b"dkim-signature", b"x-original-to", b"thread-topic",
}  # fmt: skip
_STRONG = {b"content-type", b"mime-version", b"received", b"return-path", b"message-id", b"delivered-to"}
_TABLE_EXT = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def _looks_like_headers(head: bytes) -> bool:
    """The file opens with RFC 822 header fields: two known ones, or one MIME/transport field."""
    names: list[bytes] = []
    for line in head.splitlines()[:80]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t") and names:
            continue
        m = _HEADER.match(line)
        if not m:
            break
        names.append(m.group(1).strip().lower())
    known = sum(1 for n in names if n in _KNOWN or n.startswith(b"x-"))
    return known >= 2 or bool(names and names[0] in _STRONG)


def sniff(path: str | Path, text_col: str = "text") -> str:
    """One of :data:`KINDS`."""
    path = Path(path)
    if path.is_dir():
        return "maildir" if is_maildir(path) else "directory"
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith(BOM):
        head = head[len(BOM) :]
    if not head.strip():
        return "empty"
    if head.startswith(OLE2):
        return "msg"
    if head.startswith(b"PAR1"):
        return "parquet"
    ext = path.suffix.lower()
    if ext in _TABLE_EXT:
        return _TABLE_EXT[ext]
    first = head.split(b"\n", 1)[0]
    if _is_separator(first):
        return "mbox"
    if _looks_like_headers(head):
        return "eml"
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        try:
            if isinstance(json.loads(stripped.split(b"\n", 1)[0]), dict):
                return "jsonl"
        except ValueError:
            pass
    fields = {f.strip().strip(b'"').lower() for f in re.split(rb"[,;\t|]", first.strip()) if f}
    if len(fields) > 1 and text_col.encode().lower() in fields:
        return "csv"
    if ext == ".msg":
        return "msg"
    text = head.decode("utf-8", errors="replace")
    return "html" if looks_like_html(text) else "text"
