"""Scoring email exports: one row per message, checkpoint/resume, atomic output, rollup, Dask path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from clientsense import emailscore
from clientsense.cli import main
from clientsense.emailscore import OUTPUT_COLUMNS, score_export, score_export_frame
from clientsense.readers import ExportOptions

RO = Path(__file__).parent / "fixtures" / "email" / "ro"
STAFF = ExportOptions.build(staff_domains=["magazin-exemplu.ro"])


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_parquet(path)


class Interrupted(Exception):
    """Stands for Ctrl-C or a killed process in the middle of a run."""


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    """Our Romanian fixtures plus one broken .msg and an empty file."""
    d = tmp_path / "export"
    shutil.copytree(RO, d)
    (d / "zz_broken.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (d / "zz_empty.eml").write_bytes(b"")
    return d


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_one_row_per_message_all_formats(export: Path, tmp_path: Path, analyzer: Any, suffix: str) -> None:
    out = tmp_path / f"scored{suffix}"
    report = score_export(export, out, options=STAFF, analyzer=analyzer, chunk_size=3, rollup=tmp_path / "clients.csv")
    df = _read(out)
    assert len(df) == report.rows == 10 and list(df.columns) == list(OUTPUT_COLUMNS)
    assert report.skipped == {"outbound": 1, "auto_reply": 1, "error": 2}
    by_name = df.set_index(df["source"].map(lambda s: Path(s).name))
    assert by_name.loc["06_staff_reply.eml", "skip_reason"] == "outbound" and pd.isna(
        by_name.loc["06_staff_reply.eml", "tone"]
    )
    assert by_name.loc["zz_empty.eml", "error"] == "empty file"
    assert str(by_name.loc["zz_broken.msg", "error"]).startswith("unreadable .msg")
    assert by_name.loc["03_windows1250.eml", "language"] == "ro" and by_name.loc["03_windows1250.eml", "tone"] in (
        "frustrated",
        "abusive",
    )
    clients = pd.read_csv(tmp_path / "clients.csv")
    assert "suport@magazin-exemplu.ro" not in set(clients["sender"])  # staff is not a client
    stefanescu = clients.set_index("sender").loc["andreea.stefanescu@example.ro"]
    assert stefanescu["messages"] == 2 and stefanescu["errors"] == 0
    assert not list(tmp_path.glob(".scored*.parts"))  # checkpoint removed after success


def test_resume_after_interruption(
    export: Path, tmp_path: Path, analyzer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "scored.csv"
    out.write_text("old,complete\n1,2\n")
    real = emailscore.score_records
    calls: list[int] = []

    def flaky(records: Any, **kw: Any) -> pd.DataFrame:
        calls.append(len(records))
        if len(calls) == 3:
            raise Interrupted("simulated Ctrl-C")
        return real(records, **kw)

    monkeypatch.setattr(emailscore, "score_records", flaky)
    with pytest.raises(Interrupted):
        score_export(export, out, options=STAFF, analyzer=analyzer, chunk_size=3)
    assert out.read_text() == "old,complete\n1,2\n"  # the previous output is untouched until the atomic replace
    assert (tmp_path / ".scored.csv.parts" / "checkpoint.json").is_file()
    calls.clear()
    report = score_export(export, out, options=STAFF, analyzer=analyzer, chunk_size=3)
    assert report.resumed_chunks == 2 and calls == [3, 1]  # only the unfinished chunks are scored again
    df = pd.read_csv(out)
    assert len(df) == 10 and not df.duplicated(["source", "index"]).any()
    monkeypatch.undo()
    full = score_export_frame(export, STAFF, analyzer=analyzer)
    assert list(df["source"]) == list(full["source"]) and list(df["tone"].fillna("")) == list(full["tone"].fillna(""))


def test_changed_input_discards_checkpoint(
    export: Path, tmp_path: Path, analyzer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s.jsonl"
    parts = tmp_path / ".s.jsonl.parts"
    parts.mkdir()
    (parts / "checkpoint.json").write_text('{"fingerprint": "other", "chunks": 3}')
    report = score_export(export, out, options=STAFF, analyzer=analyzer, chunk_size=4)
    assert report.resumed_chunks == 0 and report.rows == 10


def test_cli_email_export(export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, clients = tmp_path / "r.parquet", tmp_path / "clients.csv"
    code = main(
        ["score", str(export), "-o", str(out), "--rollup", str(clients), "--staff-domain", "magazin-exemplu.ro"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "wrote 10 rows" in printed and "outbound 1" in printed and "auto_reply 1" in printed
    assert len(pd.read_parquet(out)) == 10 and len(pd.read_csv(clients)) >= 4
    assert main(["score", str(export)]) == 2  # an email export needs -o
    assert "needs -o" in capsys.readouterr().err
    table = tmp_path / "tickets.csv"
    pd.DataFrame(
        {
            "body": ["Unde este coletul meu?", "Am trimis coletul azi."],
            "who": ["ana@client.example", "agent@shop.example"],
        }
    ).to_csv(table, index=False)
    args = ["score", str(table), "-o", str(tmp_path / "t.jsonl"), "--text-col", "body", "--sender-col", "who"]
    assert main([*args, "--staff", "shop.example", "-q"]) == 0
    rows = pd.read_json(tmp_path / "t.jsonl", lines=True)
    assert list(rows["direction"]) == ["inbound", "outbound"] and rows["language"].iloc[0] == "ro"


def test_dask_path_matches_serial(export: Path, analyzer: Any) -> None:
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster

    from clientsense.scale import score_exports_dask

    files = sorted(export.iterdir())
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        ddf = score_exports_dask(files, STAFF, chunk_size=4)
        assert ddf.npartitions == len(files)
        got = ddf.compute().reset_index(drop=True)
    serial = score_export_frame(files, STAFF, analyzer=analyzer)
    assert len(got) == len(serial) == 10
    assert list(got["source"]) == list(serial["source"])
    assert list(got["tone"].fillna("")) == list(serial["tone"].fillna(""))
