"""CSV / JSONL / Parquet readers: one row per record, bad records flagged, never dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clientsense.readers import read_messages
from clientsense.readers.tables import ReaderError


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_single_column_csv(tmp_path: Path) -> None:
    # the delimiter sniffer once chose the letter 't' of the header "text"
    df = read_messages(_write(tmp_path, "a.csv", b'text\nhello\n"a, b; c"\n'))
    assert df["text"].tolist() == ["hello", "a, b; c"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, sep: str) -> None:
    body = f'id{sep}text\n1{sep}"Bonjour, ça va; oui | non"\n2{sep}plain\n'.encode()
    df = read_messages(_write(tmp_path, "a.csv", body))
    assert df["id"].tolist() == ["1", "2"] and df["text"].tolist() == ["Bonjour, ça va; oui | non", "plain"]


def test_bom_crlf_and_invalid_utf8(tmp_path: Path) -> None:
    df = read_messages(_write(tmp_path, "a.csv", b"\xef\xbb\xbfid,text\r\n1,caf\xe9 ok\r\n2,\r\n"))
    assert df["text"].tolist() == ["caf\ufffd ok", None]
    assert df["_read_error"].isna().all()


def test_bad_rows_are_kept_in_place(tmp_path: Path) -> None:
    body = b'id,text\n1,first\n2,too,many,fields\n3\n4,"multi\nline"\n5,"never closed\n'
    df = read_messages(_write(tmp_path, "a.csv", body))
    assert len(df) == 5
    assert df["id"].tolist() == ["1", None, "3", "4", "5"]
    assert df["text"].tolist()[:4] == ["first", None, None, "multi\nline"]
    err = df["_read_error"].tolist()
    assert err[0] is None and "line 3: 4 fields" in err[1] and err[2] is None and err[3] is None


def test_huge_field_and_duplicate_headers(tmp_path: Path) -> None:
    big = "x" * 1_000_000
    df = read_messages(_write(tmp_path, "a.csv", f"text,text,\n{big},b,c\n".encode()))
    assert df.columns.tolist() == ["text", "text.1", "Unnamed: 2", "_read_error"]
    assert df["text"].iloc[0] == big


def test_empty_and_headerless(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="empty file"):
        read_messages(_write(tmp_path, "a.csv", b""))
    with pytest.raises(ReaderError, match="no column 'text'"):
        read_messages(_write(tmp_path, "b.csv", b"body\nhello\n"))
    with pytest.raises(ReaderError, match="no such file"):
        read_messages(tmp_path / "missing.csv")


def test_jsonl_deep_nesting_and_junk(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    body = b'\xef\xbb\xbf{"text": "one"}\n' + deep + b'\n{"text": {"nested": 1}}\n\xff\xfe\n{"text": "two"}\n'
    df = read_messages(_write(tmp_path, "a.jsonl", body))
    assert len(df) == 5
    assert df["text"].iloc[0] == "one" and df["text"].iloc[4] == "two"
    assert "line 2" in df["_read_error"].iloc[1] and "line 4" in df["_read_error"].iloc[3]


def test_corrupt_parquet_is_a_reader_error(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="Parquet"):
        read_messages(_write(tmp_path, "a.parquet", b"PAR1 not really"))
    good = tmp_path / "b.parquet"
    pd.DataFrame({"text": ["a", None]}).to_parquet(good)
    assert read_messages(good)["text"].tolist()[0] == "a"


def test_sniffs_jsonl_without_extension(tmp_path: Path) -> None:
    df = read_messages(_write(tmp_path, "export", b'\xef\xbb\xbf {"text": "hi"}\n'))
    assert df["text"].tolist() == ["hi"]


def test_utf16_export(tmp_path: Path) -> None:
    body = "id\ttext\n1\tЗаказ не пришёл\n".encode("utf-16")
    df = read_messages(_write(tmp_path, "a.tsv", body))
    assert df["text"].tolist() == ["Заказ не пришёл"]


def test_jsonl_big_integers_stay_exact(tmp_path: Path) -> None:
    # found by fuzzing: a column with a missing value became float64 and 2**53 + 1 lost its last digit
    df = read_messages(_write(tmp_path, "a.jsonl", b'{"text": "a"}\n{"text": "b", "id": 9007199254740993}\n'))
    assert df["id"].tolist()[1] == 9007199254740993
