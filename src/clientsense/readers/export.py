"""``read_export``: any mailbox or helpdesk export → a stream of :class:`EmailRecord`, one per message.

Reading is two steps: :func:`iter_raw` finds the messages (cheap: bytes, a file path or a table
row) and :func:`parse_raw` parses and cleans one. The scorer uses the split to skip work already
done when it resumes, and to parse in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import EMAIL_MAX_MESSAGE_BYTES
from .mailbox import iter_mbox, maildir_files
from .mime import NO_STAFF, StaffFilter, decode_bytes, parse_message, parse_text
from .outlook import parse_msg
from .records import INBOUND, OUTBOUND, RECORD_COLUMNS, EmailRecord
from .sniff import sniff
from .tables import iter_table_rows

_OUTBOUND_VALUES = frozenset({"outbound", "out", "outgoing", "agent", "staff", "sent", "reply", "public_reply"})


@dataclass(frozen=True)
class ExportOptions:
    """How to read an export. Column names apply to helpdesk tables (CSV/JSONL/Parquet)."""

    text_col: str = "text"
    sender_col: str | None = "sender"
    timestamp_col: str | None = "timestamp"
    thread_col: str | None = "thread_id"
    id_col: str | None = "id"
    subject_col: str | None = "subject"
    direction_col: str | None = None
    """Optional column whose values ``outbound``/``agent``/``staff``… mark our own replies."""
    staff: StaffFilter = field(default_factory=lambda: NO_STAFF)
    strip_quotes: bool = True
    max_message_bytes: int = EMAIL_MAX_MESSAGE_BYTES
    kind: str | None = None
    """Force the kind instead of sniffing (``mbox``, ``eml``, ``msg``, ``csv``, ``jsonl``, ``parquet``, ``text``)."""

    @classmethod
    def build(
        cls, staff_addresses: Iterable[str] = (), staff_domains: Iterable[str] = (), **kwargs: Any
    ) -> ExportOptions:
        return cls(staff=StaffFilter.of(staff_addresses, staff_domains), **kwargs)


@dataclass(frozen=True, slots=True)
class RawItem:
    """One message as found: ``payload`` is bytes (RFC 822 / text), a ``Path`` (.msg) or a table row."""

    source: str
    index: int
    kind: str
    payload: bytes | Path | dict[str, Any] | None
    error: str | None = None


def _files(root: Path) -> Iterator[Path]:
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            yield p


def iter_raw(path: str | Path, options: ExportOptions | None = None) -> Iterator[RawItem]:
    """Every message of ``path`` (a file, a Maildir or a folder of exports), in a stable order."""
    options = options or ExportOptions()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    kind = options.kind if options.kind and path.is_file() else sniff(path, options.text_col)
    src = str(path)
    if kind == "maildir":
        for p in maildir_files(path):
            yield from iter_raw(p, options)
    elif kind == "directory":
        for p in _files(path):
            yield from iter_raw(p, options)
    elif kind == "mbox":
        for m in iter_mbox(path, options.max_message_bytes):
            yield RawItem(src, m.index, "mbox", m.data, m.error)
    elif kind == "msg":
        yield RawItem(src, 0, "msg", path)
    elif kind in ("csv", "jsonl", "parquet"):
        for i, (row, err) in enumerate(iter_table_rows(path, kind)):
            yield RawItem(src, i, kind, row, err)
    elif kind == "empty":
        yield RawItem(src, 0, kind, None, "empty file")
    else:
        size = path.stat().st_size
        if size > options.max_message_bytes:
            yield RawItem(src, 0, kind, None, f"message larger than {options.max_message_bytes} bytes")
        else:
            yield RawItem(src, 0, kind, path.read_bytes())


def _cell(row: dict[str, Any], col: str | None) -> str | None:
    if not col or col not in row:
        return None
    v = row[col]
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return str(v).strip() or None


def _row_record(item: RawItem, row: dict[str, Any], o: ExportOptions) -> EmailRecord:
    sender = _cell(row, o.sender_col)
    addr = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", sender or "")
    email_addr = addr.group(0).lower() if addr else (sender.lower() if sender else None)
    flag = (_cell(row, o.direction_col) or "").lower()
    direction = OUTBOUND if flag in _OUTBOUND_VALUES or o.staff.is_staff(email_addr) else INBOUND
    meta: dict[str, Any] = {
        "message_id": _cell(row, o.id_col),
        "sender": email_addr,
        "timestamp": _cell(row, o.timestamp_col),
        "subject": _cell(row, o.subject_col),
        "thread_id": _cell(row, o.thread_col),
        "direction": direction,
    }
    value = row.get(o.text_col)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        reason = "missing text" if value is None or (isinstance(value, float) and value != value) else None
        if o.text_col not in row:
            reason = f"no column {o.text_col!r}"
        if reason:
            return EmailRecord(item.source, item.index, kind=item.kind, error=reason, **meta)
        value = str(value)
    return parse_text(value, item.source, item.index, kind=item.kind, strip_quotes=o.strip_quotes, **meta)


def parse_raw(item: RawItem, options: ExportOptions | None = None) -> EmailRecord:
    """Parse and clean one raw message; never raises."""
    o = options or ExportOptions()
    if item.error or item.payload is None:
        return EmailRecord(item.source, item.index, kind=item.kind, error=item.error or "no content")
    try:
        if isinstance(item.payload, Path):
            return parse_msg(item.payload, item.source, staff=o.staff, strip_quotes=o.strip_quotes)
        if isinstance(item.payload, dict):
            return _row_record(item, item.payload, o)
        if item.kind in ("text", "html"):
            text, cs = decode_bytes(item.payload, None)
            rec = parse_text(text, item.source, item.index, kind=item.kind, strip_quotes=o.strip_quotes)
            return _with(rec, charset=cs)
        rec = parse_message(item.payload, item.source, item.index, staff=o.staff, strip_quotes=o.strip_quotes)
        return _with(rec, kind=item.kind) if item.kind != "eml" else rec
    except Exception as e:  # defensive: a reader bug must cost one row, not the run
        return EmailRecord(item.source, item.index, kind=item.kind, error=f"{type(e).__name__}: {e}")


def _with(rec: EmailRecord, **changes: Any) -> EmailRecord:
    return replace(rec, **changes)


def read_export(path: str | Path, options: ExportOptions | None = None, **kwargs: Any) -> Iterator[EmailRecord]:
    """Stream the messages of an export (mbox, .eml folder, Maildir, .msg, helpdesk table) as records.

    Keyword arguments build :class:`ExportOptions` when ``options`` is not given, e.g.
    ``read_export("support.mbox", staff_domains=["ourshop.com"])``.
    """
    o = options or ExportOptions.build(**kwargs)
    for item in iter_raw(path, o):
        yield parse_raw(item, o)


def records_frame(records: Iterable[EmailRecord]) -> pd.DataFrame:
    """A DataFrame with one row per record and the columns of :data:`RECORD_COLUMNS`."""
    return pd.DataFrame([r.to_dict() for r in records], columns=list(RECORD_COLUMNS))


def read_export_frame(path: str | Path, options: ExportOptions | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`read_export` collected into a DataFrame (for exports that fit in memory)."""
    return records_frame(read_export(path, options, **kwargs))
