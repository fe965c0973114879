import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from clientsense.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_analyze_human_and_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["analyze", "Bonjour, où en est ma commande 1234 ?"]) == 0
    out = capsys.readouterr().out
    assert "language     fr" in out and "step" in out and "reason" in out
    assert main(["analyze", "--json", "Thanks, all fixed!"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["language"] == "en" and d["step"]["id"]


def test_score_sample_export(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = ROOT / "data/samples/messages.csv"
    out = tmp_path / "scored.jsonl"
    assert main(["score", str(src), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "25 messages scored" in printed
    rows = pd.read_json(out, lines=True)
    assert len(rows) == len(pd.read_csv(src)) == 25
    assert rows.loc[rows["id"] == "m021", "error"].iloc[0] == "missing text"


def test_score_jsonl_with_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Where is my parcel?"}\nnot json\n[1,2]\n{"text": null}\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "-q"]) == 0
    rows = pd.read_csv(out)
    assert len(rows) == 4
    assert rows["error"].isna().tolist() == [True, False, False, False]
    assert rows["error"].iloc[1].startswith("line 2")


def test_errors_are_clear(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["score", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "x.csv").write_text("body\nhello\n")
    assert main(["score", str(tmp_path / "x.csv")]) == 2
    assert "no column 'text'" in capsys.readouterr().err


def test_info_and_entry_point() -> None:
    r = subprocess.run([sys.executable, "-m", "clientsense.cli", "info"], capture_output=True, text=True, check=True)
    assert json.loads(r.stdout)["model_version"]
