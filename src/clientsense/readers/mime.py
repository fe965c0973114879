"""One RFC 822 message (bytes) → :class:`EmailRecord`: MIME walk, charset fallbacks, flags.

Body text: the first ``text/plain`` part that is not an attachment, else the first ``text/html``
part converted to text. Bytes are decoded with the declared charset, then the one
charset-normalizer detects, then UTF-8 with replacement characters — never an exception.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.parser
import quopri
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from .html import html_to_text, looks_like_html
from .quotes import strip_reply
from .records import INBOUND, OUTBOUND, EmailRecord

_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "x-unknown": "",
    "unknown-8bit": "",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "",
    "windows-874": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response)|out of (?:the )?office|"
    r"réponse automatique|absence|automatische antwort|abwesenheitsnotiz|respuesta automática|"
    r"risposta automatica|odpowiedź automatyczna|автоматический ответ|автоматична відповідь|"
    r"răspuns automat|raspuns automat|afwezigheidsbericht)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(?:undeliver(?:able|ed)|delivery (?:status notification|failure|has failed)|returned mail|"
    r"mail delivery (?:failed|failure|subsystem)|failure notice|non remis|unzustellbar|"
    r"не доставлено|nedoručitelné|niedostarczalna|nu a putut fi livrat)",
    re.IGNORECASE,
)
_MAX_HEADER_CHARS = 8192
_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|bounces?)@", re.IGNORECASE)


@dataclass(frozen=True)
class StaffFilter:
    """Addresses and domains of your own staff: their messages are outbound and are not scored."""

    addresses: frozenset[str] = field(default_factory=frozenset)
    domains: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, addresses: Iterable[str] = (), domains: Iterable[str] = ()) -> StaffFilter:
        return cls(
            frozenset(a.strip().lower() for a in addresses if a.strip()),
            frozenset(d.strip().lower().lstrip("@") for d in domains if d.strip()),
        )

    def is_staff(self, address: str | None) -> bool:
        if not address:
            return False
        a = address.lower()
        dom = a.rpartition("@")[2]
        return a in self.addresses or any(dom == d or dom.endswith("." + d) for d in self.domains)


NO_STAFF = StaffFilter()


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str]:
    """``(text, charset used)``: declared charset, then detected, then UTF-8 with replacement."""
    codec = _codec(declared)
    if codec:
        try:
            text = data.decode(codec)
            # a declared ASCII/Latin-1 label on UTF-8 bytes is a common lie: prefer UTF-8 when it decodes
            if codec in ("ascii", "latin-1", "iso8859-1", "cp1252") and not data.isascii():
                try:
                    return data.decode("utf-8"), "utf-8"
                except UnicodeDecodeError:
                    pass
            return text, codec
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding, errors="replace"), best.encoding
        except LookupError:
            pass
    return data.decode("utf-8", errors="replace"), "utf-8-replace"


def header_text(value: object) -> str | None:
    """A header decoded from RFC 2047 words (bad words kept as they are); ``None`` when absent."""
    if value is None:
        return None
    raw = str(value)[:_MAX_HEADER_CHARS]
    try:
        parts = decode_header(raw)
        out = []
        for chunk, cs in parts:
            if isinstance(chunk, bytes):
                out.append(decode_bytes(chunk, cs)[0])
            else:
                out.append(chunk)
        text = "".join(out) if len(parts) > 1 else str(make_header(parts))
    except (ValueError, LookupError, UnicodeError, AssertionError):
        text = raw
    return re.sub(r"\s+", " ", text).strip() or None


def _get(msg: Message, name: str) -> str:
    """A raw header as ``str`` (compat32 gives ``Header`` objects for 8-bit values)."""
    value = msg.get(name)
    return "" if value is None else str(value)


def _is_attachment(part: Message) -> bool:
    disp = _get(part, "Content-Disposition").split(";")[0].strip().lower()
    if disp == "attachment":
        return True
    try:
        named = bool(part.get_filename())
    except (AttributeError, ValueError, TypeError, LookupError):
        named = "name=" in _get(part, "Content-Type").lower() or "filename" in _get(part, "Content-Disposition").lower()
    return disp == "" and named and not _ctype(part).startswith("text/")


def _ctype(part: Message) -> str:
    try:
        return part.get_content_type()
    except (AttributeError, ValueError, TypeError):
        return _get(part, "Content-Type").split(";")[0].strip().lower() or "text/plain"


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (AttributeError, ValueError, TypeError, LookupError):
        m = re.search(r'charset\s*=\s*"?([\w.:-]+)', _get(part, "Content-Type"), re.IGNORECASE)
        return m.group(1).lower() if m else None


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            return data
    except (AttributeError, ValueError, TypeError, LookupError):
        pass
    raw = part.get_payload()
    return (raw if isinstance(raw, str) else "").encode("utf-8", errors="surrogateescape")


def _body(msg: Message) -> tuple[str, str | None, bool]:
    """(text, charset, whether it came from HTML) of the message's main body."""
    plain: Message | None = None
    html: Message | None = None
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = [p for p in payload if isinstance(p, Message)]
            continue
        ctype = _ctype(part)
        if ctype == "message/rfc822" or _is_attachment(part):
            continue
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
    chosen = plain or html
    if chosen is None:
        return "", None, False
    text, cs = decode_bytes(_payload(chosen), _charset(chosen))
    from_html = chosen is html or (chosen is plain and looks_like_html(text) and "<body" in text[:5000].lower())
    return (html_to_text(text) if from_html else text), cs, from_html


_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HEADER_PARSER = email.parser.BytesHeaderParser(policy=policy.compat32)


def _split(data: bytes) -> tuple[bytes, bytes]:
    m = _HEAD_END.search(data)
    return (data, b"") if m is None else (data[: m.start()], data[m.end() :])


def _decode_cte(data: bytes, cte: str) -> bytes | None:
    cte = cte.strip().lower()
    if cte in ("", "7bit", "8bit", "binary"):
        return data
    if cte == "base64":
        try:
            return binascii.a2b_base64(data)
        except (binascii.Error, ValueError):
            return None
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return None


def _fast_find(head: Message, body: bytes, depth: int) -> tuple[Message, bytes] | bool | None:
    """The first text/plain (else text/html) leaf under ``head``; ``None``: none; ``False``: unsure, use the stdlib."""
    raw_ctype = _get(head, "Content-Type")
    ctype = raw_ctype.split(";")[0].strip().lower() or "text/plain"
    if ctype.startswith("message/") or ctype in ("multipart/digest", "multipart/report") or (depth and not raw_ctype):
        return False  # embedded messages, reports and defaulted part types: the stdlib walk decides
    if ctype.startswith("multipart/"):
        m = _BOUNDARY.search(_get(head, "Content-Type"))
        if m is None or depth > 4:
            return False
        delim = b"--" + (m.group(1) or m.group(2)).encode("latin-1", errors="replace")
        if body.find(delim + b"--") < 0:
            return False
        chunks = body.split(delim)
        html: tuple[Message, bytes] | None = None
        for chunk in chunks[1:]:
            if chunk.startswith(b"--"):
                break
            nl = chunk.find(b"\n")
            if nl < 0 or chunk[:nl].strip():
                return False  # the delimiter is not alone on its line
            part = chunk[nl + 1 :]
            if part.startswith((b"\n", b"\r\n")):  # no part headers: text/plain by default
                phead_raw, pbody = b"", part[1 if part.startswith(b"\n") else 2 :]
            elif _HEAD_END.search(part) is None:
                return False
            else:
                phead_raw, pbody = _split(part)
            phead = _HEADER_PARSER.parsebytes(phead_raw + b"\n")
            if phead.defects:
                return False
            if pbody.endswith(b"\r\n"):
                pbody = pbody[:-2]
            elif pbody.endswith(b"\n"):
                pbody = pbody[:-1]
            found = _fast_find(phead, pbody, depth + 1)
            if found is False:
                return False
            if found is None or found is True:
                continue
            if _get(found[0], "Content-Type").split(";")[0].strip().lower() in ("", "text/plain"):
                return found
            html = html or found
        return html
    disp = _get(head, "Content-Disposition").split(";")[0].strip().lower()
    if ctype not in ("text/plain", "text/html") or disp == "attachment":
        return None
    return head, body


def _fast_body(data: bytes) -> tuple[Message, str, str | None] | None:
    """Header-only parse plus a direct walk to the body part; ``None`` when the stdlib parser is needed."""
    raw_head, body = _split(data)
    if not body and not raw_head.endswith(b"\n"):
        return None
    head = _HEADER_PARSER.parsebytes(raw_head + b"\n")
    if head.defects:
        return None
    found = _fast_find(head, body, 0)
    if found is False:
        return None
    if found is None or found is True:
        return None
    part, payload = found
    decoded = _decode_cte(payload, _get(part, "Content-Transfer-Encoding"))
    if decoded is None:
        return None
    text, cs = decode_bytes(decoded, _charset(part))
    if _get(part, "Content-Type").split(";")[0].strip().lower() == "text/html":
        text = html_to_text(text)
    return head, text, cs


def _flags(msg: Message, sender: str | None, subject: str | None) -> tuple[bool, bool]:
    auto = (_get(msg, "Auto-Submitted") or "no").strip().lower() not in ("", "no")
    auto = auto or any(msg.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Reply"))
    auto = auto or _get(msg, "Precedence").strip().lower() == "auto_reply"
    auto = auto or bool(subject and _AUTO_SUBJECT.match(subject))
    ctype = _get(msg, "Content-Type").lower()
    report = "multipart/report" in ctype and ("delivery-status" in ctype or "disposition-notification" in ctype)
    bounce = report or bool(sender and _BOUNCE_SENDER.match(sender))
    bounce = bounce or bool(subject and _BOUNCE_SUBJECT.search(subject) and not msg.get("In-Reply-To"))
    return auto and not bounce, bounce


def _timestamp(value: str | None) -> str | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return dt.isoformat() if dt else None


def _thread_id(msg: Message, message_id: str | None) -> str | None:
    refs = header_text(msg.get("References")) or ""
    first = re.search(r"<[^<>]+>", refs)
    if first:
        return first.group(0)
    reply_to = header_text(msg.get("In-Reply-To"))
    return reply_to or message_id


def parse_message(
    data: bytes, source: str, index: int = 0, *, staff: StaffFilter = NO_STAFF, strip_quotes: bool = True
) -> EmailRecord:
    """Parse one message; a message that cannot be parsed becomes a record with ``error`` set."""
    try:
        fast = _fast_body(data)
        if fast is None:
            msg = email.message_from_bytes(data, policy=policy.compat32)
            body, charset, _ = _body(msg)
        else:
            msg, body, charset = fast
        name, address = parseaddr(header_text(msg.get("From")) or "")
        sender = address.lower() or None
        subject = header_text(msg.get("Subject"))
        recipients = ", ".join(a for _, a in getaddresses([header_text(msg.get(h)) or "" for h in ("To", "Cc")]) if a)
        message_id = header_text(msg.get("Message-ID"))
        auto, bounce = _flags(msg, sender, subject)
        parts = strip_reply(body) if strip_quotes else None
        direction = OUTBOUND if staff.is_staff(sender) else INBOUND
        return EmailRecord(
            source=source,
            index=index,
            message_id=message_id,
            sender=sender,
            sender_name=name or None,
            recipients=recipients or None,
            timestamp=_timestamp(header_text(msg.get("Date"))),
            subject=subject,
            thread_id=_thread_id(msg, message_id),
            text=parts.text if parts else body.strip(),
            direction=direction,
            is_auto_reply=auto,
            is_bounce=bounce,
            is_forward=bool(parts and parts.is_forward)
            or bool(subject and re.match(r"^\s*(fwd?|tr|wg|rv|pd)\s*:", subject, re.I)),
            quote_removed=bool(parts and parts.quote_removed),
            signature_removed=bool(parts and parts.signature_removed),
            charset=charset,
            kind="rfc822",
        )
    except Exception as e:  # a broken message is a row with a reason, never a crash
        return EmailRecord(
            source=source, index=index, kind="rfc822", error=f"unparseable message: {type(e).__name__}: {e}"
        )


def parse_text(
    text: str, source: str, index: int = 0, *, kind: str = "text", strip_quotes: bool = True, **meta: object
) -> EmailRecord:
    """A bare body (helpdesk cell, text or HTML fragment) cleaned like an email body."""
    body = html_to_text(text) if looks_like_html(text) else text
    parts = strip_reply(body) if strip_quotes else None
    values: dict[str, object] = {
        "text": parts.text if parts else body.strip(),
        "is_forward": bool(parts and parts.is_forward),
        "quote_removed": bool(parts and parts.quote_removed),
        "signature_removed": bool(parts and parts.signature_removed),
        "kind": kind,
    }
    return EmailRecord(source=source, index=index, **(values | meta))  # type: ignore[arg-type]
