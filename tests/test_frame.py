import numpy as np
import pandas as pd
import pytest

import clientsense
from clientsense.frame import RESULT_COLUMNS


def test_score_frame_keeps_every_row_and_index(analyzer) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        {
            "text": ["Where is my order?", np.nan, None, "", 42, "Merci beaucoup !", b"bytes body, still late"],
            "k": range(7),
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    out = clientsense.score_frame(df, analyzer=analyzer)
    assert len(out) == len(df) and list(out.index) == list(df.index)
    assert list(out["k"]) == list(range(7))
    assert out.loc[11, "error"] == "missing text" and out.loc[12, "error"] == "missing text"
    assert out.loc[14, "error"] == "not text: int"
    assert pd.isna(out.loc[10, "error"]) and out.loc[10, "step"]
    assert out.loc[13, "language"] == "und"
    assert out.loc[16, "language"] == "en"
    assert isinstance(out["tone"].dtype, pd.CategoricalDtype)
    assert out["p_abusive"].dtype == np.float64
    assert set(RESULT_COLUMNS) <= set(out.columns)


def test_prefix_and_clash(analyzer) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"text": ["hello"], "tone": ["x"]})
    with pytest.raises(ValueError, match="prefix"):
        clientsense.score_frame(df, analyzer=analyzer)
    out = clientsense.score_frame(df, analyzer=analyzer, prefix="cs_")
    assert "cs_tone" in out and out["tone"].iloc[0] == "x"


def test_missing_column(analyzer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyError, match="body"):
        clientsense.score_frame(pd.DataFrame({"text": ["a"]}), text_col="body", analyzer=analyzer)


def test_summary(analyzer) -> None:  # type: ignore[no-untyped-def]
    from clientsense.report import summary_text

    out = clientsense.score_frame(pd.DataFrame({"text": ["Thanks!", None, "You idiots!"]}), analyzer=analyzer)
    s = summary_text(out)
    assert s.startswith("3 messages scored, 1 with errors") and "recommended steps" in s
