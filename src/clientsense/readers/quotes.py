"""Quoted history, forwarded blocks and signatures removed from a reply, line by line.

The reply-header patterns (``On … wrote:``, ``Le … a écrit :``, ``În data de … a scris:``,
Outlook ``From:/Sent:/To:`` blocks, ``-----Original Message-----`` separators …) cover en, ru, uk,
fr, ro, pl, de, es, it, pt, nl and the Nordic languages. A header may be wrapped over up to three
lines, as Gmail does. Everything from the first header on is quoted history; ``>``-quoted lines
are dropped wherever they are, so inline replies keep the client's own lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_Q = r"^\W{0,3}"  # optional bold/markup characters before a header word, e.g. "*From:*"
_WROTE = (
    r"wrote|writes|has written|schrieb|hat geschrieben|a écrit|a ecrit|escribió|escribio|ha scritto|scrisse|"
    r"escreveu|schreef|napisał\(a\)|napisała|napisał|napisal|написал\(а\)|написала|написал|пишет|пише|"
    r"написав\(ла\)|написав|написала|a scris|skrev|kirjoitti|kirjutas|写道|寫道|wrote the following"
)
_WROTE_RE = _WROTE.replace(" ", r"\s")
_REPLY_HEADER = re.compile(
    rf"""^\W{{0,6}}(?:
        .{{0,400}}(?:{_WROTE_RE})[\s:-]*$                           # "… wrote:" in many languages
      | .{{0,120}}\d.{{0,160}}<[^<>\s]+@[^<>\s]+>\s*:\s*$         # Gmail "<date>, Name <a@b>:" (ru, uk, ro …)
      | .{{0,120}}\d.{{0,160}}\S+@\S+\s*:\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_VERB_INSIDE = re.compile(rf"\b(?:{_WROTE})\b.{{0,200}}:\s*$", re.IGNORECASE)
_CLOSING = re.compile(r"^>\s*:?\s*$")
_DATE_NAME = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?(?:\s+GMT[+-]\d{1,2}:?\d{0,2})?\s+[^\s\d].{0,100}$"
)
_REPLY_START = re.compile(
    r"^\W{0,6}(?:on|at|am|le|el|il|il giorno|em|op|w dniu|dnia|în data de|in data de|pe|den|la|"
    r"\d|[a-zа-яёіїєґ]{2,4}\.?,\s*\d|"
    r"понедельник|вторник|среда|четверг|пятница|суббота|воскресенье|"
    r"понеділок|вівторок|середа|четвер|п'ятниця|субота|неділя)",
    re.IGNORECASE,
)
_FROM = (
    r"from|de la|de|od|от|від|von|da|van|från|fra|lähettäjä|feladó|expéditeur|remitente|mittente|absender|"
    r"expeditor|nadawca|отправитель"
)
_HEADER_FIELD = (
    r"sent|date|to|cc|subject|envoyé|envoye|à|a|objet|gesendet|datum|an|betreff|enviado|para|asunto|fecha|"
    r"inviato|oggetto|data|wysłano|wyslano|do|temat|trimis|către|catre|subiect|отправлено|дата|кому|тема|"
    r"надіслано|verzonden|onderwerp|aan|skickat|ämne|sendt|emne|til|till|reply-to|копия|risposta|antwort an|"
    r"répondre à|responder a|importance|priorité|wichtigkeit"
)
_OUTLOOK_FROM = re.compile(rf"{_Q}(?:{_FROM})\W{{0,2}}\s?:\W{{0,2}}\s*\S", re.IGNORECASE)
_OUTLOOK_FIELD = re.compile(rf"{_Q}(?:{_HEADER_FIELD})\W{{0,2}}\s?:", re.IGNORECASE)
_ONE_LINE_OUTLOOK = re.compile(rf"{_Q}(?:{_FROM})\s?:.{{1,200}}\b(?:sent|date|to|subject)\s?:", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*[-_=*>]*\s*(?:original message|ursprüngliche nachricht|originalnachricht|message d'origine|"
    r"mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|"
    r"wiadomość oryginalna|oryginalna wiadomość|исходное сообщение|оригинальное сообщение|"
    r"вихідне повідомлення|mesaj original|mesajul original|původní zpráva|originalmeddelande|"
    r"alkuperäinen viesti|reply message|original email)\s*[-_=*]*\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(?:[-=_*]{2,}\s*(?:forwarded message|forwarded e-?mail|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|messaggio inoltrato|mensagem encaminhada|doorgestuurd bericht|przekazana wiadomość|"
    r"wiadomość przekazana|пересылаемое сообщение|пересланное сообщение|переслане повідомлення|"
    r"mesaj redirecționat|mesaj redirectionat|mesaj transmis|videresendt melding|vidarebefordrat meddelande)"
    r"|begin forwarded message|début du message réexpédié|anfang der weitergeleiteten|inizio messaggio inoltrato|"
    r"comienzo del mensaje reenviado|începutul mesajului redirecționat|inceputul mesajului redirectionat)",
    re.IGNORECASE,
)
_SIG_DELIM = re.compile(r"^(?:--|-- |—|__)\s*$")
_MOBILE_SIG = re.compile(
    r"^\W{0,3}(?:sent from|sent via|sent with|sent using|get outlook for|envoyé de|envoyé depuis|envoye de|"
    r"von meinem .{1,60} gesendet|gesendet von|enviado desde|enviado do|inviato da|wysłane z|wyslane z|"
    r"trimis de pe|trimis din|trimis cu|отправлено с|отправлено из|надіслано з|verzonden met|verstuurd vanaf|"
    r"skickat från|sendt fra|lähetetty)\b",
    re.IGNORECASE,
)
_TRAILING_JUNK = re.compile(r"^\s*(?:[-_=*~]{3,}|\W{1,3}|\u1427)?\s*$")  # U+1427: Gmail's tracking dot
_MAX_SIG_LINES = 40


@dataclass(frozen=True, slots=True)
class ReplyParts:
    """The client's own text of a message and what was removed from it."""

    text: str
    quote_removed: bool
    signature_removed: bool
    is_forward: bool


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


_DIGIT_OR_AT = re.compile(r"\d|@")
_WRAP_START = re.compile(r"[@<]|\d{1,2}:\d{2}")


def _field_block(lines: list[str], i: int) -> int:
    """Lines of an Outlook-style ``From:/Sent:/To:/Subject:`` block at ``i`` (blank lines allowed between)."""
    fields, has_from, j, end = 0, False, i, i
    while j < len(lines) and j < i + 16:
        s = lines[j].strip()
        if s:
            is_from = bool(_OUTLOOK_FROM.match(s))
            if not (is_from or _OUTLOOK_FIELD.match(s)):
                break
            fields += 1
            has_from = has_from or is_from
            end = j + 1
        j += 1
    first_from = bool(_OUTLOOK_FROM.match(lines[i].strip()))
    return end - i if has_from and (fields >= 3 or (first_from and fields >= 2)) else 0


def _header_at(lines: list[str], i: int) -> int:
    """How many lines the reply header starting at ``lines[i]`` spans (0: no header there)."""
    line = lines[i].strip()
    if not line or _is_quoted(line) or len(line) > 400:
        return 0
    colon = ":" in line[:60]
    if _SEPARATOR.match(line) or (line[0].isdigit() and _DATE_NAME.match(line)):
        return 1
    if colon and (_ONE_LINE_OUTLOOK.match(line) or _OUTLOOK_FROM.match(line) or _OUTLOOK_FIELD.match(line)):
        return 1 if _ONE_LINE_OUTLOOK.match(line) else _field_block(lines, i)
    window = [x.rstrip() for x in lines[i : i + 3]]
    if not any(x.endswith((":", "-")) for x in window):  # every wrapped reply header ends in ':' (or '----')
        return 0
    if not (_REPLY_START.match(line) or _DIGIT_OR_AT.search(line)):
        return 0
    joined = line
    for k in range(3):
        if k:
            nxt = lines[i + k].strip() if i + k < len(lines) else ""
            if not nxt or (_is_quoted(nxt) and not _CLOSING.match(nxt)):
                break
            if not (_REPLY_START.match(line) or _WRAP_START.search(line)):
                break  # a wrapped header starts like one; a sentence with a number in it does not
            joined = f"{joined} {nxt}"
        if _REPLY_HEADER.match(joined) or ((_REPLY_START.match(line) or "@" in joined) and _VERB_INSIDE.search(joined)):
            return k + 1
    return 0


def _strip_tail(lines: list[str]) -> list[str]:
    while lines and _TRAILING_JUNK.match(lines[-1]):
        lines.pop()
    return lines


_FIELD_LINE = re.compile(r"^\W{0,2}[\w .-]{1,30}\W{0,2}\s?:\s")


def _next_is_field(lines: list[str], i: int) -> bool:
    return i + 1 < len(lines) and bool(_FIELD_LINE.match(lines[i + 1]))


def _skip_header_block(lines: list[str]) -> list[str]:
    """Lines after a forwarded message's own ``From:/Date:/Subject:`` block."""
    i, in_field = 0, False
    while i < len(lines):
        line = lines[i]
        if _FIELD_LINE.match(line):
            in_field = True
        elif line.strip() and not (in_field and (line[:1] in (" ", "\t") or _next_is_field(lines, i))):
            break
        i += 1
    return lines[i:]


def _remove_signature(lines: list[str]) -> tuple[list[str], bool]:
    for i, line in enumerate(lines):
        s = line.strip()
        rest = [x for x in lines[i + 1 :] if x.strip()]
        if len(rest) > _MAX_SIG_LINES or any(len(x) > 100 for x in rest):
            continue
        if (_SIG_DELIM.match(line.rstrip("\n")) and i > 0) or (_MOBILE_SIG.match(s) and len(s) < 120):
            return lines[:i], True
    return lines, False


def _find_cut(lines: list[str], start: int) -> tuple[int, int, bool]:
    """(first history line, lines of its header, whether it is a forward) at or after ``start``."""
    for i in range(start, len(lines)):
        if _FORWARD.match(lines[i]):
            return i, 1, True
        span = _header_at(lines, i)
        if span:
            return i, span, False
    return len(lines), 0, False


def strip_reply(text: str, *, signatures: bool = True, _depth: int = 0) -> ReplyParts:
    """The new text of a reply: history from the first reply header on, ``>`` quotes and signature removed.

    A forward with nothing written above it keeps the forwarded message's body (its headers
    dropped), so the client's forwarded complaint is still scored.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, quote_removed = 0, False
    while True:  # a reply written below the quote (bottom-posting) is taken from after the header
        cut, span, forward = _find_cut(lines, start)
        own = _strip_tail([ln for ln in lines[start:cut] if not _is_quoted(ln)])
        quote_removed = quote_removed or cut < len(lines) or any(_is_quoted(ln) for ln in lines[start:cut])
        if forward or cut == len(lines) or any(ln.strip() for ln in own):
            break
        start = cut + span
    if forward and not any(ln.strip() for ln in own) and _depth < 2:
        inner = "\n".join(_skip_header_block(lines[cut + 1 :]))
        sub = strip_reply(inner, signatures=signatures, _depth=_depth + 1)
        return ReplyParts(sub.text, True, sub.signature_removed, True)
    sig = False
    if signatures:
        own, sig = _remove_signature(own)
        own = _strip_tail(own)
    while own and not own[0].strip():
        own.pop(0)
    return ReplyParts("\n".join(own).strip(), quote_removed, sig, forward)
