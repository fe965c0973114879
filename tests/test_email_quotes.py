"""Quote, signature and forward removal, against the expected outputs shipped with the shared fixtures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from clientsense.readers import read_export
from clientsense.readers.html import html_to_text
from clientsense.readers.quotes import strip_reply

ROOT = Path(__file__).resolve().parents[1]
EMAIL = Path(os.environ.get("CLIENTSENSE_SHARED", ROOT.parent / "shared")) / "email"
RO = Path(__file__).parent / "fixtures" / "email" / "ro"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _own_words(text: str) -> str:
    """Expected text under our contract: ``>``-quoted lines are never the client's own words."""
    return _norm("\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith(">")))


@pytest.fixture(scope="module")
def discourse() -> Path:
    root = EMAIL / "discourse_email_reply_trimmer" / "test"
    if not (root / "trimmed").is_dir():
        pytest.skip("../shared/email is not beside the checkout")
    return root


def test_discourse_trimmed_accuracy(discourse: Path) -> None:
    pairs = [(p, discourse / "trimmed" / p.name) for p in sorted((discourse / "emails").glob("*.txt"))]
    assert len(pairs) == 64
    got = {p.name: strip_reply(p.read_text(encoding="utf-8", errors="replace")).text for p, _ in pairs}
    exp = {p.name: e.read_text(encoding="utf-8", errors="replace") for p, e in pairs}
    exact = sum(_norm(got[n]) == _norm(exp[n]) for n in got) / len(got)
    own = sum(_norm(got[n]) == _own_words(exp[n]) for n in got) / len(got)
    assert exact >= 0.88, exact
    assert own >= 0.95, own


@pytest.mark.parametrize(
    "name",
    [
        "embedded_email_russian_1", "embedded_email_russian_2", "embedded_email_ukrainian", "embedded_email_polish_1",
        "embedded_email_polish_2", "embedded_email_french_1", "embedded_email_french_2", "embedded_email_german_1",
        "embedded_email_german_4", "embedded_email_spanish_1", "embedded_email_spanish_2", "embedded_email_italian",
        "email_headers_1", "forwarded_gmail", "forwarded_apple", "signatures",
    ],
)  # fmt: skip
def test_discourse_languages_and_styles(discourse: Path, name: str) -> None:
    text = (discourse / "emails" / f"{name}.txt").read_text(encoding="utf-8")
    expected = (discourse / "trimmed" / f"{name}.txt").read_text(encoding="utf-8")
    assert _norm(strip_reply(text).text) == _norm(expected)


@pytest.fixture(scope="module")
def talon() -> Path:
    root = EMAIL / "mailgun_talon" / "fixtures"
    if not root.is_dir():
        pytest.skip("../shared/email is not beside the checkout")
    return root


def test_talon_standard_replies(talon: Path) -> None:
    replies = sorted((talon / "standard_replies").glob("*.eml"))
    assert len(replies) == 12
    for (
        p
    ) in replies:  # Android, AOL, Apple Mail (2), Comcast, Gmail, Hotmail, iPhone, Outlook, Sparrow, Thunderbird, Yahoo
        rec = next(read_export(p))
        assert rec.text == "Hello" and rec.quote_removed, p.name
    for name in ("iphone", "sparrow"):  # the expected reply text keeps the signature: compare without removing it
        raw = next(read_export(talon / "standard_replies" / f"{name}.eml", strip_quotes=False)).text or ""
        expected = (talon / "standard_replies" / f"{name}_reply_text").read_text(encoding="utf-8")
        assert _norm(strip_reply(raw, signatures=False).text) == _norm(expected)


def test_talon_html_replies(talon: Path) -> None:
    for p in sorted((talon / "html_replies").glob("*.html")):  # Gmail, Hotmail, Mail.ru, Outlook 2003–2010, Yandex …
        assert _norm(next(read_export(p)).text or "") == "Hi. I am fine. Thanks, Alex", p.name


def test_quotequail_html(talon: Path) -> None:
    files = EMAIL / "quotequail" / "files"
    got = {p.stem: next(read_export(p)).text for p in files.glob("*.html")}
    assert _norm(got["gmail_reply"] or "") == "foo bar" and _norm(got["apple_reply"] or "") == "Foo Bar"
    assert got["thunderbird_forward"] == "Dear John,\n\nThis is a test."  # pure forward: the forwarded body is kept
    assert got["mailru_forward"] == "Дорогой Петр,\n\nЭто тест!"


@pytest.mark.parametrize(
    ("name", "gone"),
    [
        ("email_russian", "John Doe"), ("email_14", "napisał"), ("email_french_2", "a écrit"),
        ("email_german", "schrieb"), ("email_italian", "ha scritto"), ("email_portuguese", "escreveu"),
        ("email_german_outlook", "Gesendet"), ("email_original_message", "Original Message"),
    ],
)  # fmt: skip
def test_crisp_multilingual_headers(talon: Path, name: str, gone: str) -> None:
    text = (EMAIL / "crisp_email_reply_parser" / "fixtures" / f"{name}.txt").read_text(encoding="utf-8")
    parts = strip_reply(text)
    assert parts.quote_removed and parts.text and gone not in parts.text


def test_romanian_replies() -> None:
    recs = {Path(r.source).name: r for r in read_export(RO)}
    gmail = recs["04_reply_gmail_ro.eml"]
    assert gmail.text == "Mulțumesc pentru răspuns, dar coletul tot nu a sosit.\nPuteți verifica din nou la curier?"
    assert gmail.quote_removed and gmail.signature_removed  # "Trimis de pe iPhone"
    outlook = recs["05_reply_outlook_ro.eml"]
    assert (
        outlook.text is not None
        and outlook.text.endswith("Cu stimă,\nElena Dumitrescu")
        and "De la:" not in outlook.text
    )
    html = recs["08_html_reply_ro.eml"]
    assert html.text == "Nu sunt de acord cu taxa de retur de 50 de lei. În contract scrie că returul este gratuit."


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, Jun 2, 2025 at 10:00 AM Shop <help@shop.example> wrote:",
        "Le lun. 2 juin 2025 à 10:00, Shop <help@shop.example> a écrit :",
        "În data de lun., 2 iun. 2025, 10:00, Shop <help@shop.example> a scris:",
        "W dniu 2.06.2025 o 10:00, Shop <help@shop.example> napisał:",
        "Am 02.06.2025 um 10:00 schrieb Shop <help@shop.example>:",
        "El lun, 2 jun 2025 a las 10:00, Shop (<help@shop.example>) escribió:",
        "Il giorno lun 2 giu 2025 alle ore 10:00 Shop <help@shop.example> ha scritto:",
        "пн, 2 июн. 2025 г. в 10:00, Shop <help@shop.example>:",
        "2 червня 2025 р. о 10:00 Shop <help@shop.example> пише:",
        "-----Original Message-----",
        "-----Mesaj original-----",
    ],
)
def test_reply_headers(header: str) -> None:
    text = f"My own words.\n\n{header}\n> their words\n> more"
    assert strip_reply(text).text == "My own words."


def test_no_false_cuts_and_inline_replies() -> None:
    text = "On Monday I wrote to your colleague about it.\nFrom my side everything is paid.\nStill nothing."
    assert strip_reply(text).text == text
    inline = "> Is the order number 4471?\nYes, 4471.\n> And the address?\nStrada Lungă 5, Brașov."
    assert strip_reply(inline).text == "Yes, 4471.\nStrada Lungă 5, Brașov."
    fwd = "---------- Forwarded message ---------\nFrom: Ann <a@x.example>\nSubject: late\n\nMy parcel is late again."
    parts = strip_reply(fwd)
    assert parts.is_forward and parts.text == "My parcel is late again."


def test_html_to_text() -> None:
    html = "<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>you</b></p><blockquote>old</blockquote><script>x</script></body></html>"
    assert html_to_text(html) == "Hello you\n\n> old"
