"""Email readers on the shared public fixtures (read in place) and on our own Romanian fixtures."""

from __future__ import annotations

import csv
import json
import mailbox
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from clientsense.readers import ExportOptions, read_export, read_export_frame, sniff
from clientsense.readers.mime import decode_bytes, parse_message
from clientsense.readers.outlook import MISSING

ROOT = Path(__file__).resolve().parents[1]
EMAIL = Path(os.environ.get("CLIENTSENSE_SHARED", ROOT.parent / "shared")) / "email"
RO = Path(__file__).parent / "fixtures" / "email" / "ro"
_SEPARATOR = re.compile(rb"^From (?:-|\S*@\S*)", re.MULTILINE)  # "From -" or "From sender@host"


@pytest.fixture(scope="module")
def email_root() -> Path:
    if not (EMAIL / "README.md").is_file():
        pytest.skip("../shared/email is not beside the checkout")
    return EMAIL


def _inventory(root: Path) -> list[tuple[Path, dict[str, str]]]:
    rows = []
    for inv in sorted(root.glob("*/INVENTORY.tsv")):
        with open(inv, encoding="utf-8") as fh:
            rows += [(inv.parent / r["file"], r) for r in csv.DictReader(fh, delimiter="\t")]
    return rows


def test_every_shared_fixture_is_read(email_root: Path) -> None:
    files = _inventory(email_root)
    assert len(files) > 900
    errors: list[tuple[str, str]] = []
    for path, row in files:
        records = list(read_export(path))
        kind = sniff(path)
        if row["kind"] == "mbox":
            assert len(records) == int(row["n_messages"]), path
        elif kind == "mbox" and path.parent.name == "mbox":  # MimeKit summaries, unmunged mbox: count separators
            assert len(records) == len(_SEPARATOR.findall(path.read_bytes().lstrip(b"\xef\xbb\xbf"))), path
        else:
            assert len(records) == 1, path
        assert [r.index for r in records] == list(range(len(records)))
        errors += [(path.name, r.error) for r in records if r.error]
    # only deliberately broken Outlook files (fuzzer output) and empty files fail, each with its reason
    assert all("clusterfuzz" in name or err == "empty file" for name, err in errors), errors
    assert sum("clusterfuzz" in name for name, _ in errors) == 2


def test_mbox_variants_from_shared(email_root: Path) -> None:
    mbox = email_root / "mimekit" / "mbox"
    unmunged = list(read_export(mbox / "unmunged.mbox.txt"))  # BOM, unescaped "From Russia with love" in bodies
    assert len(unmunged) == 2 and all(r.error is None for r in unmunged)
    cl = list(read_export(mbox / "content-length.mbox.txt"))  # Content-Length bodies with "From -" inside
    assert len(cl) == 29 and sum(r.error is not None for r in cl) == 0


def test_charsets_from_shared(email_root: Path) -> None:
    ukr = next(read_export(email_root / "mimekit" / "tnef" / "ukr.eml"))
    assert ukr.charset == "koi8-r" and ukr.text is not None and ukr.text.startswith("шостий")
    cyr = next(read_export(email_root / "apache_poi_hsmf" / "msg" / "cyrillic_message.msg"))
    assert cyr.text is not None and "Ваше сообщение с темой" in cyr.text
    jb = next(read_export(email_root / "jetbrains_email_parser" / "testEmls" / "empty" / "93.eml"))
    assert jb.text is not None and "текст" in jb.text


def test_outlook_msg_without_extension_and_flags(email_root: Path) -> None:
    path = email_root / "spamscope_mailparser" / "mails" / "mail_outlook_1"
    assert sniff(path) == "msg"
    rec = next(read_export(path))
    assert rec.kind == "outlook-msg" and rec.error is None and rec.text
    dsn = next(read_export(email_root / "enmime" / "dsn_testdata" / "simple_dsn.raw"))
    assert dsn.is_bounce and dsn.skip_reason == "bounce"


def test_missing_extract_msg_is_an_error_row(email_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "extract_msg", None)
    rec = next(read_export(email_root / "apache_poi_hsmf" / "msg" / "quick.msg"))
    assert rec.error == MISSING and rec.skip_reason == "error"


def test_romanian_fixtures_decode_and_flag() -> None:
    recs = {Path(r.source).name: r for r in read_export(RO, staff_domains=["magazin-exemplu.ro"])}
    assert len(recs) == 8
    assert recs["01_utf8_qp.eml"].subject == "Comanda nelivrată"
    assert recs["01_utf8_qp.eml"].sender_name == "Andreea Ștefănescu"
    assert "deși am plătit-o acum două săptămâni" in (recs["01_utf8_qp.eml"].text or "")
    iso = recs["02_iso8859_2.eml"]
    assert iso.charset == "iso8859-2" and "Factura primită are suma greşită" in (iso.text or "")
    assert "corectaţi până mâine" in (iso.text or "")
    win = recs["03_windows1250.eml"]
    assert win.charset == "cp1250" and "Sunteţi de neseriosi!" in (win.text or "") and "Rădulescu" in (win.text or "")
    assert recs["06_staff_reply.eml"].direction == "outbound" and recs["06_staff_reply.eml"].skip_reason == "outbound"
    assert (
        recs["07_auto_reply.eml"].is_auto_reply
        and recs["07_auto_reply.eml"].subject == "Răspuns automat: Comanda nelivrată"
    )
    assert recs["04_reply_gmail_ro.eml"].thread_id == "<ro-001@example.ro>"
    assert recs["04_reply_gmail_ro.eml"].timestamp == "2025-06-05T12:30:00+03:00"


@pytest.mark.parametrize(
    ("text", "codec", "declared"),
    [
        ("Третий раз пишу, заказ так и не пришёл. Верните деньги, пожалуйста, сегодня же.", "koi8-r", "koi8-r"),
        ("Третий раз пишу, заказ так и не пришёл. Верните деньги, пожалуйста, сегодня же.", "cp1251", "windows-1251"),
        ("Zamówienie nie dotarło, proszę o zwrot pieniędzy. Żółć, gęś, źdźbło.", "iso-8859-2", "iso-8859-2"),
        ("Zamówienie nie dotarło, proszę o zwrot pieniędzy. Żółć, gęś, źdźbło.", "cp1250", "windows-1250"),
        ("Третий раз пишу, заказ так и не пришёл. Верните деньги, пожалуйста, сегодня же.", "cp1251", None),
        ("Третий раз пишу, заказ так и не пришёл. Верните деньги, пожалуйста, сегодня же.", "cp1251", "utf-8"),
    ],
)
def test_charset_fallback_chain(text: str, codec: str, declared: str | None) -> None:
    data = text.encode(codec)
    ctype = f"text/plain; charset={declared}" if declared else "text/plain"
    raw = f"From: a@b.example\nSubject: x\nContent-Type: {ctype}\nContent-Transfer-Encoding: 8bit\n\n".encode() + data
    rec = parse_message(raw, "mem")
    assert rec.text == text and rec.error is None
    assert decode_bytes(b"\xff\xfe broken \x81", "no-such-charset")[0]  # never raises


def _msg(i: int, body: str, sender: str = "client@example.com") -> str:
    return f"From: {sender}\nTo: help@shop.example\nSubject: m{i}\nMessage-ID: <m{i}@x>\n\n{body}\n"


def test_mbox_rd_cl_crlf_bom_and_oversize(tmp_path: Path) -> None:
    rd = "".join(
        f"From client@example.com Mon Jun  2 09:00:0{i} 2025\n" + _msg(i, f">From here on {i}\nok") + "\n"
        for i in range(3)
    )
    (tmp_path / "rd.mbox").write_text(rd, encoding="utf-8")
    recs = list(read_export(tmp_path / "rd.mbox"))
    assert [r.text for r in recs] == [f"From here on {i}\nok" for i in range(3)]
    (tmp_path / "crlf.dat").write_bytes(b"\xef\xbb\xbf" + rd.replace("\n", "\r\n").encode())
    assert sniff(tmp_path / "crlf.dat") == "mbox"
    assert [r.subject for r in read_export(tmp_path / "crlf.dat")] == ["m0", "m1", "m2"]
    body = "line one\n\nFrom the start it was broken\nend"
    cl = ""
    for i in range(2):
        payload = body + "\n"
        cl += f"From client@example.com Mon Jun  2 09:00:0{i} 2025\nFrom: c@x.example\nSubject: cl{i}\n"
        cl += f"Content-Length: {len(payload.encode())}\n\n{payload}\n"
    (tmp_path / "cl.mbox").write_text(cl, encoding="utf-8")
    recs = list(read_export(tmp_path / "cl.mbox"))
    assert len(recs) == 2 and all("From the start it was broken" in (r.text or "") for r in recs)
    big = rd + "From x@y.example Mon Jun  2 10:00:00 2025\n" + _msg(9, "x" * 5000) + "\n" + rd
    (tmp_path / "big.mbox").write_text(big, encoding="utf-8")
    recs = list(read_export(tmp_path / "big.mbox", ExportOptions(max_message_bytes=2000)))
    assert len(recs) == 7 and recs[3].error == "message larger than 2000 bytes" and recs[4].subject == "m0"


def test_maildir_and_mixed_folder(tmp_path: Path) -> None:
    md = mailbox.Maildir(tmp_path / "md", create=True)
    for i in range(3):
        md.add(_msg(i, f"Where is my order {i}?"))
    assert sniff(tmp_path / "md") == "maildir"
    assert sorted(r.subject or "" for r in read_export(tmp_path / "md")) == ["m0", "m1", "m2"]
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.txt").write_text(_msg(1, "hello"), encoding="utf-8")  # an .eml named .txt
    (folder / "b").write_text("From x@y.example Mon Jun  2 10:00:00 2025\n" + _msg(2, "hi") + "\n", encoding="utf-8")
    (folder / "empty.eml").write_bytes(b"")
    frame = read_export_frame(folder)
    assert list(frame["kind"]) == ["rfc822", "mbox", "empty"] and frame["error"].iloc[2] == "empty file"


def test_helpdesk_tables_with_column_mapping(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "body": [
                "Where is my parcel?\n\nOn Mon, 2 Jun 2025 at 10:00, Shop <help@shop.example> wrote:\n> old",
                None,
                "<p>Hi <b>there</b></p><p>Broken again!</p>",
            ],
            "from": ["Ann <ann@client.example>", "bob@client.example", "agent@shop.example"],
            "created": ["2025-06-02T10:00:00Z", "2025-06-02T11:00:00Z", "2025-06-02T12:00:00Z"],
            "ticket": ["T1", "T2", "T1"],
        }
    )
    opts = ExportOptions.build(
        staff_domains=["shop.example"], text_col="body", sender_col="from", timestamp_col="created", thread_col="ticket"
    )
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "t.jsonl").write_text("\n".join([*(json.dumps(r) for r in df.to_dict("records")), "not json"]) + "\n")
    for name, n in (("t.csv", 3), ("t.parquet", 3), ("t.jsonl", 4)):
        recs = list(read_export(tmp_path / name, opts))
        assert len(recs) == n, name
        assert (
            recs[0].text == "Where is my parcel?"
            and recs[0].sender == "ann@client.example"
            and recs[0].thread_id == "T1"
        )
        assert recs[1].error == "missing text"
        assert recs[2].direction == "outbound" and recs[2].text == "Hi there\n\nBroken again!"
    assert list(read_export(tmp_path / "t.jsonl", opts))[3].error.startswith("line 4")  # type: ignore[union-attr]
    (tmp_path / "noext").write_text(df.to_csv(index=False))
    assert sniff(tmp_path / "noext", "body") == "csv"


def test_fast_mime_path_agrees_with_stdlib_walk(email_root: Path) -> None:
    import email as stdlib_email
    from email import policy

    from clientsense.readers import iter_raw
    from clientsense.readers.mime import _body, _fast_body

    used = 0
    for path, _row in _inventory(email_root):
        for item in iter_raw(path):
            if item.kind in ("eml", "mbox") and isinstance(item.payload, bytes):
                fast = _fast_body(item.payload)
                if fast is not None:
                    used += 1
                    slow = _body(stdlib_email.message_from_bytes(item.payload, policy=policy.compat32))
                    assert fast[1].strip() == slow[0].strip() and fast[2] == slow[1], (path, item.index)
    assert used > 300
