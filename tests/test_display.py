"""Rich display: HTML for Jupyter (escaped, highlighted, bars), plain text for terminals."""

from __future__ import annotations

import re

import pandas as pd

from clientsense.display import Results, highlight_html, proba_bars_html, table_html
from clientsense.results import Span

HOSTILE = "<script>alert('x')</script> You useless idiots, refund me now!"


class _Printer:
    def __init__(self) -> None:
        self.out = ""

    def text(self, s: str) -> None:
        self.out += s


def test_analysis_html_escapes_and_marks_evidence(analyzer) -> None:  # type: ignore[no-untyped-def]
    a = analyzer.analyze(HOSTILE)
    h = a._repr_html_()
    assert "<script>" not in h and "&lt;script&gt;" in h
    assert "alert(&#x27;x&#x27;)" in h
    insult = next(s for s in a.signals if s.id == "insult")
    marked = re.findall(r'<mark title="([^"]*)"[^>]*>(.*?)</mark>', h)
    assert any("insult" in title and insult.span.text in text for title, text in marked)
    assert f"<code>{a.step.id}</code>" in h and a.step.reason.split(":")[0] in h
    top = max(a.tone_proba.values()) * 100
    assert f"width:{top:.1f}%" in h


def test_plain_text_in_terminals(analyzer) -> None:  # type: ignore[no-untyped-def]
    a = analyzer.analyze("Where is my parcel? It was due on Monday.")
    s = str(a)
    assert s.splitlines()[1].startswith("language     en")
    assert f"step         {a.step.id}" in s and "<" not in s.replace("<url>", "")
    p = _Printer()
    a._repr_pretty_(p, False)
    assert p.out == s
    assert repr(a).startswith("Analysis(text=")  # the dataclass repr is unchanged


def test_highlight_merges_overlaps_and_clips() -> None:
    text = "abc <def> ghi"
    h = highlight_html(text, [(Span(0, 3, "abc"), "x"), (Span(2, 9, "c <def>"), "y"), (Span(11, 40, "hi"), "z")])
    assert h.startswith('<mark title="x"')
    assert '<mark title="x, y"' in h and ">c</mark>" in h
    assert "&lt;def&gt;" in h and "<def>" not in h
    assert h.endswith('<mark title="z" style="background:#fff3a8;padding:0 1px;border-radius:2px">hi</mark>')
    plain = re.sub(r"<[^>]+>", "", h).replace("&lt;", "<").replace("&gt;", ">")
    assert plain == text


def test_probability_bars_best_first() -> None:
    h = proba_bars_html({"neutral": 0.1, "abusive": 0.7, "frustrated": 0.2}, {"abusive": "#f00"})
    assert h.index("abusive") < h.index("frustrated") < h.index("neutral")
    assert "width:70.0%;height:100%;background:#f00" in h and "20%" in h


def test_batch_results_table(analyzer) -> None:  # type: ignore[no-untyped-def]
    texts = [HOSTILE, "Merci beaucoup, tout marche !", "", "Dzień dobry, gdzie jest paczka?"]
    res = Results(analyzer.analyze_many(texts), max_rows=3)
    assert len(res) == 4 and res[1].language == "fr" and len(res[1:]) == 3
    h = res._repr_html_()
    assert h.count("<tr>") == 1 + 3 and "1 more rows not shown" in h and "<script>" not in h
    lines = str(res).splitlines()
    assert len(lines) == 1 + 3 + 1 and lines[2].split()[1] == "fr"
    frame = res.to_frame()
    assert list(frame["text"]) == [a.text for a in res]
    assert isinstance(frame["tone"].dtype, pd.CategoricalDtype) and frame["p_neutral"].dtype == "float64"
    assert table_html([]).count("<tr>") == 1


def test_submodule_reachable_from_package() -> None:
    import subprocess
    import sys

    code = "import clientsense; print(clientsense.display.Results.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "Results"


def test_thread_display(analyzer) -> None:  # type: ignore[no-untyped-def]
    t = analyzer.analyze_thread(["Where is my order?", "Still nothing, second email!", "You idiots, answer me!"])
    h = t._repr_html_()
    assert "3 messages" in h and h.count("<tr>") == 4 and f"<code>{t.step.id}</code>" in h
    assert str(t).startswith("3 messages, pattern:")
