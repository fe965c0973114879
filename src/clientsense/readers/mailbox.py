"""Mailbox containers streamed message by message: mbox (mboxo/mboxrd/mboxcl/mboxcl2, LF or CRLF), Maildir.

The mbox reader scans lines and never holds more than one message: memory stays flat on a
multi-gigabyte file. A ``From `` line starts a message when it follows a blank line (or the start
of the file) and looks like a real separator (``From -``, or a sender plus a date/time), so body
lines such as "From Russia with love" do not split a message. ``Content-Length`` (mboxcl/mboxcl2)
is honoured when it points exactly at the next separator. ``>From `` quoting (mboxrd) is undone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FROM_LINE = re.compile(rb"^From (?:-|\S*@\S*|\S+\s+.*?(?:\d{1,2}:\d{2}|\d{4}))")
_STRONG_FROM = re.compile(
    rb"^From (?:-[ \t]*\r?\n|-?\s*\S*\s+[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d{1,2}:\d{2})"
)  # "From -" or "From sender Www Mmm dd hh:mm": a separator even without a blank line before it
_RD_QUOTED = re.compile(rb"^>+From ")
_CONTENT_LENGTH = re.compile(rb"^Content-Length:\s*(\d{1,12})\s*$", re.IGNORECASE)
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message's bytes as found in a container (``data`` is ``None`` when ``error`` is set)."""

    index: int
    data: bytes | None
    error: str | None = None


def _is_blank(line: bytes) -> bool:
    return line in (b"\n", b"\r\n", b"\r", b"")


def _is_separator(line: bytes) -> bool:
    return line.startswith(b"From ") and bool(_FROM_LINE.match(line))


def iter_mbox(path: str | Path, max_message_bytes: int) -> Iterator[RawMessage]:
    """Messages of an mbox file in order; an oversized message becomes an error row."""
    with open(path, "rb") as fh:
        index = 0
        lines: list[bytes] = []
        size = 0
        oversize = False
        in_headers = True
        content_length: int | None = None
        started = False
        prev_blank = True

        def emit() -> RawMessage:
            body = lines
            while body and _is_blank(body[-1]):
                body = body[:-1]
            if oversize:
                return RawMessage(index, None, f"message larger than {max_message_bytes} bytes")
            return RawMessage(index, b"".join(body))

        first = True
        while True:
            line = fh.readline()
            if not line:
                break
            if first:
                first = False
                if line.startswith(BOM):
                    line = line[len(BOM) :]
            if (prev_blank and _is_separator(line)) or _STRONG_FROM.match(line):
                if started or any(not _is_blank(x) for x in lines):
                    yield emit()
                    index += 1
                started, lines, size, oversize, in_headers, content_length = True, [], 0, False, True, None
                prev_blank = False
                continue
            prev_blank = _is_blank(line)
            if in_headers:
                m = _CONTENT_LENGTH.match(line)
                if m:
                    content_length = int(m.group(1))
                if prev_blank:
                    in_headers = False
                    if content_length is not None and content_length <= max_message_bytes:
                        pos = fh.tell()
                        body = fh.read(content_length)
                        nxt = fh.readline()
                        after = fh.readline() if _is_blank(nxt) and nxt else b""
                        if len(body) == content_length and (
                            not nxt or _is_separator(nxt) or (_is_blank(nxt) and (not after or _is_separator(after)))
                        ):
                            lines.append(line)
                            lines.append(body)
                            size += len(body)
                            fh.seek(pos + content_length)
                            prev_blank = body.endswith(b"\n") or not body
                            continue
                        fh.seek(pos)
            elif line.startswith(b">") and _RD_QUOTED.match(line):
                line = line[1:]
            size += len(line)
            if size > max_message_bytes:
                oversize = True
                lines = []
            elif not oversize:
                lines.append(line)
        if started or any(not _is_blank(x) for x in lines):
            yield emit()


def maildir_files(path: Path) -> list[Path]:
    """Message files of a Maildir (``cur`` then ``new``), in name order."""
    out: list[Path] = []
    for sub in ("cur", "new"):
        d = path / sub
        if d.is_dir():
            out.extend(sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")))
    return out


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()
