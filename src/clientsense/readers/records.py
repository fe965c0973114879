"""The one record type every email reader yields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

INBOUND = "inbound"
OUTBOUND = "outbound"


@dataclass(frozen=True, slots=True)
class EmailRecord:
    """One message of an export, parsed and cleaned; ``error`` says why it could not be read.

    ``index`` is the message's position inside ``source`` (0 for a single-message file), so
    ``(source, index)`` identifies a row; ``text`` is the client's own words (quotes, signatures
    and HTML removed); ``skip_reason`` is set for messages that are not scored (outbound, auto-reply,
    bounce, error, empty).
    """

    source: str
    index: int
    message_id: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    recipients: str | None = None
    timestamp: str | None = None
    subject: str | None = None
    thread_id: str | None = None
    text: str | None = None
    direction: str = INBOUND
    is_auto_reply: bool = False
    is_bounce: bool = False
    is_forward: bool = False
    quote_removed: bool = False
    signature_removed: bool = False
    charset: str | None = None
    kind: str = ""
    error: str | None = None

    @property
    def skip_reason(self) -> str | None:
        """Why this message is not scored, or ``None`` when it is."""
        if self.error:
            return "error"
        if self.is_bounce:
            return "bounce"
        if self.is_auto_reply:
            return "auto_reply"
        if self.direction == OUTBOUND:
            return "outbound"
        if not (self.text or "").strip():
            return "empty"
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"skip_reason": self.skip_reason}


RECORD_COLUMNS: tuple[str, ...] = (*(f.name for f in fields(EmailRecord)), "skip_reason")
