"""Redaction of personal data in outputs (``--redact``, ``redact=True``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from clientsense.cli import main
from clientsense.redact import redact

MASKED = [
    # (text, the personal datum inside it, expected token)
    ("Write to anna.kowalska@example.pl today", "anna.kowalska@example.pl", "[email]"),
    ("contact: j.durand+billing@mail.example.fr.", "j.durand+billing@mail.example.fr", "[email]"),
    ("Call me on +44 7700 900123 please", "+44 7700 900123", "[phone]"),
    ("UK office 020 7946 0958", "020 7946 0958", "[phone]"),
    ("Мой номер +7 (916) 123-45-67, звоните", "+7 (916) 123-45-67", "[phone]"),
    ("или 8 (916) 123-45-67 вечером", "8 (916) 123-45-67", "[phone]"),
    ("Appelez le 06 12 34 56 78 svp", "06 12 34 56 78", "[phone]"),
    ("ou le +33 6 12 34 56 78.", "+33 6 12 34 56 78", "[phone]"),
    ("Sunați la +40 722 123 456 mâine", "+40 722 123 456", "[phone]"),
    ("sau 0722 123 456", "0722 123 456", "[phone]"),
    ("Proszę dzwonić: +48 601 234 567", "+48 601 234 567", "[phone]"),
    ("lub 601-234-567", "601-234-567", "[phone]"),
    ("numer 0048 22 123 45 67", "0048 22 123 45 67", "[phone]"),
    ("IBAN RO49 AAAA 1B31 0075 9384 0000 vă rog", "RO49 AAAA 1B31 0075 9384 0000", "[iban]"),
    ("konto PL61 1090 1014 0000 0712 1981 2874", "PL61 1090 1014 0000 0712 1981 2874", "[iban]"),
    ("RIB FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606", "[iban]"),
    ("compact FR1420041010050500013M02606 here", "FR1420041010050500013M02606", "[iban]"),
    ("GB29 NWBK 6016 1331 9268 19 is mine", "GB29 NWBK 6016 1331 9268 19", "[iban]"),
    ("Счёт RU02 0445 2560 0407 0281 0412 3456 7890 1", "RU02 0445 2560 0407 0281 0412 3456 7890 1", "[iban]"),
    ("card 4111 1111 1111 1111 was charged twice", "4111 1111 1111 1111", "[card]"),
    ("karta 5500-0000-0000-0004", "5500-0000-0000-0004", "[card]"),
]

KEPT = [
    "Order #4471 arrived on 2026-10-02 at 09:14, paid €38,500.",
    "Le 02.10.2026 j'ai payé 1 250 €.",
    "Zamówienie 12345678 z dnia 5.10.2026",
    "AB12 THIS THAT OKAY SURE",
    "Факс? 2026-10-02 09:14",
    "I've waited 3 weeks and 2 days, ref 2024/118",
    "",
]


@pytest.mark.parametrize(("text", "datum", "token"), MASKED)
def test_personal_data_is_masked(text: str, datum: str, token: str) -> None:
    out = redact(text)
    assert datum not in out
    assert out == text.replace(datum, token)


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


def test_card_needs_luhn() -> None:
    assert redact("ref 4111 1111 1111 1112") == "ref 4111 1111 1111 1112"  # fails Luhn, 16 digits: not a card
    assert "[card]" in redact("4111111111111111")


def test_redact_is_idempotent_and_linear() -> None:
    text = " ".join(t for t, _, _ in MASKED)
    once = redact(text)
    assert redact(once) == once
    for bad in ("1 " * 200_000, "a@" * 200_000, "+1-" * 200_000, "RO49 " * 100_000, "(1)" * 200_000):
        t = time.perf_counter()
        redact(bad)
        assert time.perf_counter() - t < 5.0
    with pytest.raises(TypeError):
        redact(None)  # type: ignore[arg-type]


def test_analysis_to_dict_redacts_but_keeps_offsets(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "You charged my card 4111 1111 1111 1111 twice! Refund to PL61 1090 1014 0000 0712 1981 2874 now."
    a = analyzer.analyze(text)
    plain, masked = a.to_dict(), a.to_dict(redact=True)
    assert "4111" in plain["text"] and "4111" not in masked["text"] and "[card]" in masked["text"]
    assert "PL61" not in json.dumps(masked, ensure_ascii=False)
    assert masked["redacted"] is True and "redacted" not in plain
    # spans keep their offsets into the analysed text
    for p, m in zip(plain["signals"], masked["signals"], strict=True):
        assert (p["span"]["start"], p["span"]["end"]) == (m["span"]["start"], m["span"]["end"])
        assert a.text[p["span"]["start"] : p["span"]["end"]] == p["span"]["text"]
    assert masked["tone"] == plain["tone"] and masked["step"]["id"] == plain["step"]["id"]


def test_score_frame_redact(analyzer) -> None:  # type: ignore[no-untyped-def]
    from clientsense.frame import score_frame

    df = pd.DataFrame(
        {
            "text": ["Call me back on +48 601 234 567, the parcel never arrived", None, b"mail me at x@y.com"],
            "sender": ["a@b.pl", "c@d.fr", "e@f.ro"],
        }
    )
    out = score_frame(df, analyzer=analyzer, redact=True)
    assert len(out) == 3 and out["error"].iloc[1] == "missing text"
    assert out["text"].iloc[0] == "Call me back on [phone], the parcel never arrived"
    assert pd.isna(out["text"].iloc[1]) and out["text"].iloc[2] == "mail me at [email]"
    assert out["sender"].tolist() == df["sender"].tolist()  # only free-text columns are masked
    plain = score_frame(df, analyzer=analyzer)
    assert plain["text"].iloc[0] == df["text"].iloc[0]
    assert plain["tone"].tolist() == out["tone"].tolist()


def test_cli_redact(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    msg = "Sunați-mă la +40 722 123 456, IBAN RO49 AAAA 1B31 0075 9384 0000, comanda nu a ajuns!"
    assert main(["analyze", "--json", "--redact", msg]) == 0
    out = capsys.readouterr().out
    assert "722 123" not in out and "RO49" not in out and "[phone]" in out and "[iban]" in out
    assert main(["analyze", "--redact", msg]) == 0
    assert "722 123" not in capsys.readouterr().out
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": [msg, "Merci, tout est réglé. Mon tél : 06 12 34 56 78"]}).to_csv(src, index=False)
    dst = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(dst), "-q", "--redact"]) == 0
    body = dst.read_text(encoding="utf-8")
    assert "722 123" not in body and "06 12 34" not in body and "RO49" not in body
    assert len(pd.read_json(dst, lines=True)) == 2
