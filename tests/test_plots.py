"""Plots: each draws artists on an Agg canvas and saves a non-empty PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from clientsense import plots

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scored(analyzer) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.read_csv(ROOT / "data/samples/messages.csv").clientsense.analyze(analyzer=analyzer)


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def _png(ax, path: Path) -> int:  # type: ignore[no-untyped-def]
    ax.figure.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    return len(data)


def test_tone_by_language(scored: pd.DataFrame, tmp_path: Path) -> None:
    ax = plots.tone_by_language(scored)
    ok = scored[scored["error"].isna()]
    langs = ok["language"].astype(str).nunique()
    assert len(ax.patches) == 3 * langs  # one bar per language and tone (zero-width ones included)
    widths = pd.DataFrame([(p.get_y(), p.get_width()) for p in ax.patches]).groupby(0)[1].sum()
    assert ((widths - 1).abs() < 1e-9).all()  # shares add up to 1 per language
    assert ax.get_title() == "Tone by language" and len(ax.get_legend().get_texts()) == 3
    assert _png(ax, tmp_path / "t.png") > 2000
    counts = plots.tone_by_language(scored, normalize=False)
    assert sum(p.get_width() for p in counts.patches) == len(ok)


def test_client_type_over_time(scored: pd.DataFrame, tmp_path: Path) -> None:
    ax = plots.client_type_over_time(scored, "timestamp")
    days = pd.to_datetime(scored.loc[scored["error"].isna(), "timestamp"]).dt.date.nunique()
    assert len(ax.patches) == 2 * days
    assert ax.get_xticklabels()[0].get_text() == "2026-10-02"
    assert _png(ax, tmp_path / "c.png") > 2000
    with pytest.raises(KeyError, match="when"):
        plots.client_type_over_time(scored, "when")


def test_escalation_timeline_from_thread_and_frame(analyzer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    texts = ["Where is my order?", "Still nothing. Second email!", "You idiots, answer me!", "Useless morons!!!"]
    thread = analyzer.analyze_thread(texts)
    ax = plots.escalation_timeline(thread, client="kevin")
    assert len(ax.collections) >= 2 and len(ax.lines) == 2
    assert ax.get_title().startswith("kevin: ") and thread.step.id in ax.get_title()
    assert _png(ax, tmp_path / "e.png") > 2000
    df = pd.DataFrame({"sender": ["k"] * 4 + ["o"], "ts": ["2026-01-04", "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01"],
                       "text": [texts[3], texts[0], texts[1], texts[2], "Thanks!"]})  # fmt: skip
    scored = df.clientsense.analyze(analyzer=analyzer)
    ax2 = plots.escalation_timeline(scored, "k", time_col="ts")
    ys = ax2.lines[0].get_ydata()
    assert list(ys) == [plots.SEVERITY[a.tone] for a in thread.messages]  # time order restored
    with pytest.raises(ValueError, match="no messages from 'nobody'"):
        plots.escalation_timeline(scored, "nobody")


def test_confusion_matrix_from_evaluation(tmp_path: Path) -> None:
    import json

    from clientsense.artifacts import models_dir

    metrics = json.loads((models_dir() / "metrics.json").read_text())
    ax = plots.confusion_matrix(metrics, task="client_type", lang="fr")
    matrix = metrics["in_domain_test"]["client_type"]["fr"]["confusion"]["matrix"]
    assert len(ax.images) == 1 and [t.get_text() for t in ax.texts] == [str(v) for row in matrix for v in row]
    assert _png(ax, tmp_path / "m.png") > 2000
    report = {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]}
    ax2 = plots.confusion_matrix({"confusion": report}, normalize=True)
    assert [t.get_text() for t in ax2.texts] == ["75%", "25%", "0%", "100%"]
    with pytest.raises(ValueError, match="no confusion matrix"):
        plots.confusion_matrix({"tone": {}}, lang="xx")
