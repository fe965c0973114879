"""The ``df.clientsense`` / ``series.clientsense`` accessors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import clientsense
from clientsense.frame import RESULT_COLUMNS

TEXTS = ["Vous êtes des incapables, des idiots !", None, np.nan, "Thanks, all fixed.", 7, "Gdzie jest moja paczka?"]
INDEX = pd.Index(["x", "b", "q", "a", "z", "m"], name="msg_id")


@pytest.mark.parametrize(
    "imports",
    [
        "import clientsense, pandas as pd",
        "import pandas as pd, clientsense",
        "import clientsense.language, pandas as pd",
    ],
)
def test_registered_by_import_alone_in_either_order(imports: str) -> None:
    code = (
        f"{imports}; print(type(pd.DataFrame({{'t': ['a']}}).clientsense).__name__,"
        " type(pd.Series(['a']).clientsense).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["ClientsenseFrameAccessor", "ClientsenseSeriesAccessor"]


def test_import_and_language_detection_do_not_load_pandas() -> None:
    code = (
        "import sys, clientsense\n"
        "a = 'pandas' in sys.modules\n"
        "print(a, clientsense.detect_language('Nadal nie działa!!').lang, 'pandas' in sys.modules,"
        " any(type(f).__name__ == '_AfterPandas' for f in sys.meta_path))\n"
        "import pandas\n"
        "print(any(type(f).__name__ == '_AfterPandas' for f in sys.meta_path))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "pl", "False", "True", "False"]  # the hook is gone once used


def test_frame_accessor_keeps_index_rows_and_types(analyzer) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"body": TEXTS, "n": range(6)}, index=INDEX)
    out = df.clientsense.analyze(text_col="body", analyzer=analyzer)
    assert out.index.equals(INDEX) and list(out["n"]) == list(range(6))
    assert out.loc["b", "error"] == "missing text" and out.loc["q", "error"] == "missing text"
    assert out.loc["z", "error"] == "not text: int" and pd.isna(out.loc["z", "tone"])
    assert out.loc["x", "tone"] == "abusive" and out.loc["x", "language"] == "fr"
    assert out.loc["m", "language"] == "pl" and pd.isna(out.loc["m", "error"])
    for col in ("language", "tone", "client_type", "step"):
        assert isinstance(out[col].dtype, pd.CategoricalDtype), col
    for col in ("language_confidence", "p_abusive", "p_frustrated", "p_neutral", "p_problem_client"):
        assert out[col].dtype == np.float64, col
    assert np.isnan(out.loc["b", "p_abusive"])
    pd.testing.assert_frame_equal(out, clientsense.score_frame(df, text_col="body", analyzer=analyzer))


def test_dtypes_stable_across_batches(analyzer) -> None:  # type: ignore[no-untyped-def]
    a = pd.DataFrame({"text": ["Merci !"]}).clientsense.analyze(analyzer=analyzer)
    b = pd.DataFrame({"text": [None, "You idiots"]}).clientsense.analyze(analyzer=analyzer)
    assert a.dtypes.to_dict() == b.dtypes.to_dict()
    assert list(a["tone"].cat.categories) == list(b["tone"].cat.categories) == ["abusive", "frustrated", "neutral"]


def test_series_accessor_returns_result_columns(analyzer) -> None:  # type: ignore[no-untyped-def]
    s = pd.Series(TEXTS, index=INDEX, name="body")
    out = s.clientsense.analyze(analyzer=analyzer, prefix="cs_")
    assert list(out.columns) == ["cs_" + c for c in RESULT_COLUMNS]
    assert out.index.equals(INDEX) and out.loc["b", "cs_error"] == "missing text"


def test_summary_and_rollup_through_accessor(analyzer) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        {
            "sender": ["a", "a", "a", "b"],
            "ts": ["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-01"],
            "text": ["You idiots, again!", "Where is my order?", "Idiots, answer me now!", "Thanks!"],
        }
    )
    scored = df.clientsense.analyze(analyzer=analyzer)
    tables = scored.clientsense.summary()
    assert int(tables["language × tone"].loc["total", "total"]) == 4
    roll = scored.clientsense.rollup(sender_col="sender", time_col="ts")
    assert list(roll["sender"]) == ["a", "b"] and list(roll["messages"]) == [3, 1]


def test_accessor_errors_are_clear(analyzer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyError, match="no column 'body'"):
        pd.DataFrame({"text": ["x"]}).clientsense.analyze(text_col="body", analyzer=analyzer)


def test_accessors_redact(analyzer) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"text": ["Call me on +40 721 234 567 or jan.kowalski@example.com, the order is late."]})
    plain = df.clientsense.analyze(analyzer=analyzer)
    masked = df.clientsense.analyze(analyzer=analyzer, redact=True)
    assert "721 234 567" in plain.to_csv() and "721 234 567" not in masked.to_csv()
    assert "jan.kowalski" not in masked.to_csv()
    series = df["text"].clientsense.analyze(analyzer=analyzer, redact=True)
    assert list(series.columns) == [c for c in masked.columns if c != "text"] and "721 234 567" not in series.to_csv()
    assert masked["tone"].tolist() == plain["tone"].tolist()
