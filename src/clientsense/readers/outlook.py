"""Outlook ``.msg`` files through ``extract-msg`` (the optional extra ``clientsense[email]``)."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from .html import html_to_text
from .mime import NO_STAFF, StaffFilter, _flags, header_text
from .quotes import strip_reply
from .records import INBOUND, OUTBOUND, EmailRecord

MISSING = "Outlook .msg needs the optional extra: pip install 'clientsense[email]' (extract-msg)"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).replace("\x00", "").strip() or None


def _attr(msg: Any, name: str) -> Any:
    """One property of an opened message; a property extract-msg cannot decode counts as absent."""
    try:
        return getattr(msg, name, None)
    except Exception:
        return None


def parse_msg(
    path: str | Path, source: str, *, staff: StaffFilter = NO_STAFF, strip_quotes: bool = True
) -> EmailRecord:
    """One ``.msg`` file as a record; a missing library or a broken file is an error row."""
    try:
        import extract_msg
    except ImportError:
        return EmailRecord(source=source, index=0, kind="outlook-msg", error=MISSING)
    logging.getLogger("extract_msg").setLevel(logging.CRITICAL)
    try:
        msg = extract_msg.openMsg(str(path), strict=False)
    except Exception as e:  # extract-msg raises many types on damaged OLE files
        return EmailRecord(
            source=source, index=0, kind="outlook-msg", error=f"unreadable .msg: {type(e).__name__}: {e}"
        )
    try:
        name, address = parseaddr(_text(_attr(msg, "sender")) or "")
        sender = address.lower() or None
        body = _text(_attr(msg, "body")) or ""
        if not body:
            html = _attr(msg, "htmlBody")
            body = html_to_text(html.decode("utf-8", errors="replace") if isinstance(html, bytes) else str(html or ""))
        subject = header_text(_text(_attr(msg, "subject")))
        date = _attr(msg, "date")
        header = _attr(msg, "header")
        auto, bounce = _flags(header, sender, subject) if isinstance(header, Message) else (False, False)
        parts = strip_reply(body) if strip_quotes else None
        message_id = _text(_attr(msg, "messageId"))
        return EmailRecord(
            source=source,
            index=0,
            message_id=message_id,
            sender=sender,
            sender_name=name or None,
            recipients=_text(_attr(msg, "to")),
            timestamp=date.isoformat() if isinstance(date, datetime) else None,
            subject=subject,
            thread_id=_text(_attr(msg, "inReplyTo")) or message_id,
            text=parts.text if parts else body.strip(),
            direction=OUTBOUND if staff.is_staff(sender) else INBOUND,
            is_auto_reply=auto,
            is_bounce=bounce,
            is_forward=bool(parts and parts.is_forward),
            quote_removed=bool(parts and parts.quote_removed),
            signature_removed=bool(parts and parts.signature_removed),
            charset="utf-16/ansi (msg)",
            kind="outlook-msg",
        )
    except Exception as e:
        return EmailRecord(
            source=source, index=0, kind="outlook-msg", error=f"unreadable .msg: {type(e).__name__}: {e}"
        )
    finally:
        with contextlib.suppress(Exception):  # closing a half-open OLE file
            msg.close()
