"""Rich display: results as HTML in Jupyter (highlighted evidence, probability bars), plain text elsewhere.

Every piece of user text is HTML-escaped; the markup uses inline styles only, so it renders the same
in Jupyter, VS Code and exported HTML without a style sheet.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from .config import CLIENT_TYPE_COLORS, SIGNAL_COLOR, TONE_COLORS
from .results import Analysis, Span

if TYPE_CHECKING:
    import pandas as pd

    from .history import ThreadAnalysis

_BOX = "font-family:system-ui,sans-serif;font-size:13px;line-height:1.45;max-width:52em"
_MUTED = "color:#666"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def highlight_html(text: str, marks: Iterable[tuple[Span, str]], strong: Iterable[Span] = ()) -> str:
    """``text`` escaped, with each ``(span, label)`` wrapped in ``<mark>`` (overlaps merged per character).

    Spans in ``strong`` (the step's evidence) are also underlined. Spans outside ``text`` are clipped.
    """
    n = len(text)
    labels: list[set[str]] = [set() for _ in range(n)]
    bold = [False] * n
    for span, label in marks:
        for i in range(max(span.start, 0), min(span.end, n)):
            labels[i].add(label)
    for span in strong:
        for i in range(max(span.start, 0), min(span.end, n)):
            bold[i] = True
    out: list[str] = []
    i = 0
    while i < n:
        j = i + 1
        while j < n and labels[j] == labels[i] and bold[j] == bold[i]:
            j += 1
        chunk = _e(text[i:j]).replace("\n", "<br>")
        if labels[i]:
            style = f"background:{SIGNAL_COLOR};padding:0 1px;border-radius:2px"
            if bold[i]:
                style += ";text-decoration:underline;text-decoration-thickness:2px"
            out.append(f'<mark title="{_e(", ".join(sorted(labels[i])))}" style="{style}">{chunk}</mark>')
        else:
            out.append(chunk)
        i = j
    return "".join(out)


def proba_bars_html(proba: dict[str, float], colors: dict[str, str], compact: bool = False) -> str:
    """One labelled horizontal bar per class (width = probability), best first; ``compact`` for table cells."""
    label_w, bar_w = ("10.5em", "5em") if compact else ("11em", "12em")
    rows = []
    for label, p in sorted(proba.items(), key=lambda kv: -kv[1]):
        pct = max(0.0, min(float(p), 1.0)) * 100
        color = colors.get(label, "#888")
        rows.append(
            '<div style="display:flex;align-items:center;gap:6px;margin:1px 0">'
            f'<span style="width:{label_w};{_MUTED}">{_e(label)}</span>'
            f'<span style="display:inline-block;width:{bar_w};height:0.8em;background:#eee;border-radius:2px">'
            f'<span style="display:block;width:{pct:.1f}%;height:100%;background:{color};border-radius:2px"></span>'
            f"</span><span>{pct:.0f}%</span></div>"
        )
    return "".join(rows)


def analysis_html(a: Analysis) -> str:
    """One :class:`Analysis` as an HTML fragment."""
    step = a.step
    marks = [(s.span, s.id) for s in a.signals] + [(sp, step.id) for sp in step.evidence]
    signal_list = ", ".join(f"<code>{_e(s.id)}</code> “{_e(s.span.text)}”" for s in a.signals) or "none"
    parts = [
        f'<div class="clientsense-analysis" style="{_BOX}">',
        f"<div><b>{_e(a.tone)}</b> · <b>{_e(a.client_type.replace('_', ' '))}</b> · "
        f'<span style="{_MUTED}">language {_e(a.language)} ({a.language_confidence:.0%})</span></div>',
        '<blockquote style="margin:6px 0;padding:4px 8px;border-left:3px solid #ccc;white-space:normal">'
        f"{highlight_html(a.text, marks, step.evidence)}</blockquote>",
        '<div style="display:flex;gap:2em;flex-wrap:wrap">',
        f"<div><div><b>tone</b></div>{proba_bars_html(a.tone_proba, TONE_COLORS)}</div>",
        f"<div><div><b>client type</b></div>{proba_bars_html(a.client_type_proba, CLIENT_TYPE_COLORS)}</div>",
        "</div>",
        f'<div style="margin-top:6px"><b>step</b> <code>{_e(step.id)}</code> — {_e(step.title)}</div>',
        f"<div>{_e(step.advice)}</div>",
        f'<div style="{_MUTED}"><b>why</b> {_e(step.reason)}</div>',
    ]
    if step.alternatives:
        parts.append(f'<div style="{_MUTED}"><b>also fine</b> {_e(", ".join(step.alternatives))}</div>')
    parts.append(f'<div style="{_MUTED}"><b>signals</b> {signal_list}</div>')
    if step.aftercare:
        parts.append(f'<div style="{_MUTED}"><b>after-care</b> {_e(step.aftercare)}</div>')
    parts += [f'<div style="color:#a33"><b>warning</b> {_e(w)}</div>' for w in a.warnings]
    parts.append("</div>")
    return "".join(parts)


def analysis_text(a: Analysis) -> str:
    """One :class:`Analysis` as aligned plain-text lines (terminals, logs)."""
    tone_p = ", ".join(f"{k} {v:.0%}" for k, v in sorted(a.tone_proba.items(), key=lambda kv: -kv[1]))
    type_p = a.client_type_proba.get(a.client_type, 0.0)
    lines = [
        f"text         {a.text if len(a.text) <= 200 else a.text[:199] + '…'}",
        f"language     {a.language} ({a.language_confidence:.0%})",
        f"tone         {a.tone}   [{tone_p}]",
        f"client type  {a.client_type} ({type_p:.0%})",
        f"step         {a.step.id} — {a.step.title}",
        f"reason       {a.step.reason}",
    ]
    lines += [f"signal       {s.id}: '{s.span.text}' [{s.span.start}:{s.span.end}]" for s in a.signals]
    lines += [f"warning      {w}" for w in a.warnings]
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table_html(results: Iterable[Analysis], max_rows: int = 100, text_chars: int = 160) -> str:
    """Many results as one HTML table: highlighted text, tone and client-type bars, step."""
    rows = list(results)
    head = "".join(
        f'<th style="text-align:left;padding:2px 6px">{h}</th>'
        for h in ("#", "text", "lang", "tone", "client type", "step")
    )
    body = []
    for i, a in enumerate(rows[:max_rows]):
        text = _short(a.text, text_chars)
        marks = [(s.span, s.id) for s in a.signals]
        tone = f"<b>{_e(a.tone)}</b>{proba_bars_html(a.tone_proba, TONE_COLORS, compact=True)}"
        ctype = f"<b>{_e(a.client_type)}</b>{proba_bars_html(a.client_type_proba, CLIENT_TYPE_COLORS, compact=True)}"
        cells = [str(i), highlight_html(text, marks, a.step.evidence), _e(a.language), tone, ctype, _e(a.step.id)]
        styles = ["", "min-width:22em;max-width:36em;", "", "", "", ""]
        body.append(
            "<tr>"
            + "".join(
                f'<td style="{w}vertical-align:top;padding:2px 6px;text-align:left;border-top:1px solid #eee">{c}</td>'
                for w, c in zip(styles, cells, strict=True)
            )
            + "</tr>"
        )
    more = f'<div style="{_MUTED}">… {len(rows) - max_rows} more rows not shown</div>' if len(rows) > max_rows else ""
    return (
        f'<div class="clientsense-table" style="{_BOX};max-width:none"><table style="border-collapse:collapse">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}</div>"
    )


def table_text(results: Iterable[Analysis], max_rows: int = 100, text_chars: int = 60) -> str:
    """Many results as a plain-text table."""
    rows = list(results)
    lines = [f"{'#':>3}  {'lang':4}  {'tone':10}  {'client type':19}  {'step':22}  text"]
    for i, a in enumerate(rows[:max_rows]):
        text = _short(a.text.replace("\n", " "), text_chars)
        lines.append(f"{i:>3}  {a.language:4}  {a.tone:10}  {a.client_type:19}  {a.step.id:22}  {text}")
    if len(rows) > max_rows:
        lines.append(f"… {len(rows) - max_rows} more rows")
    return "\n".join(lines)


class Results(Sequence[Analysis]):
    """A list of :class:`Analysis` that renders as a table in Jupyter and as text in a terminal.

    >>> res = Results(clientsense.analyze_many(texts))   # doctest: +SKIP
    >>> res            # in Jupyter: highlighted spans and probability bars  # doctest: +SKIP
    """

    def __init__(self, results: Iterable[Analysis], max_rows: int = 100) -> None:
        self._items = tuple(results)
        self.max_rows = max_rows

    @overload
    def __getitem__(self, i: int) -> Analysis: ...
    @overload
    def __getitem__(self, i: slice) -> Results: ...
    def __getitem__(self, i: int | slice) -> Analysis | Results:
        if isinstance(i, slice):
            return Results(self._items[i], self.max_rows)
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Analysis]:
        return iter(self._items)

    def __str__(self) -> str:
        return table_text(self._items, self.max_rows)

    def __repr__(self) -> str:
        return f"<Results of {len(self._items)} analyses>"

    def _repr_html_(self) -> str:
        return table_html(self._items, self.max_rows)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle else str(self))

    def to_frame(self) -> pd.DataFrame:
        """The results as the typed table of :func:`clientsense.score_frame` (plus a ``text`` column)."""
        import pandas as pd

        from .frame import analysis_row, results_frame

        frame = results_frame([analysis_row(a) for a in self._items], pd.RangeIndex(len(self._items)))
        return pd.concat([pd.Series([a.text for a in self._items], name="text", dtype="string"), frame], axis=1)


def thread_html(t: ThreadAnalysis) -> str:
    """A client's thread: the verdict, then each message in order."""
    pattern = f"<b>{_e(t.pattern)}</b>" if t.pattern else "no persistent pattern"
    trend = " · tone escalating" if t.escalating else ""
    return (
        f'<div class="clientsense-thread" style="{_BOX};max-width:none">'
        f"<div>{len(t.messages)} messages · {pattern}{_e(trend)} · step <code>{_e(t.step.id)}</code> — "
        f"{_e(t.step.title)}</div><div style='{_MUTED}'><b>why</b> {_e(t.reason)}</div>"
        f"{table_html(t.messages)}</div>"
    )


def thread_text(t: ThreadAnalysis) -> str:
    """A client's thread as plain text."""
    head = f"{len(t.messages)} messages, pattern: {t.pattern or 'none'}, escalating: {t.escalating}"
    return "\n".join(
        [head, f"step         {t.step.id} — {t.step.title}", f"reason       {t.reason}", "", table_text(t.messages)]
    )
