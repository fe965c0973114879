"""Plots for exploring scored messages (matplotlib; ``pip install 'clientsense[notebook]'``).

Each function draws on ``ax`` (or a new figure) and returns the ``Axes``; save with ``ax.figure.savefig``.
Inputs are the frames of :func:`clientsense.score_frame` (result columns, optional ``prefix``), a
:class:`~clientsense.ThreadAnalysis`, or the metrics of ``clientsense evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import CLIENT_TYPE_COLORS, CLIENT_TYPES, TONE_COLORS, TONES
from .history import SEVERITY
from .results import Analysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("clientsense.plots needs matplotlib: pip install 'clientsense[notebook]'") from e
    return plt


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, new = _pyplot().subplots(figsize=figsize, layout="constrained")
    return new  # type: ignore[no-any-return]


def _legend_right(ax: Axes) -> None:
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)


def _scored(df: pd.DataFrame, prefix: str, cols: Sequence[str]) -> pd.DataFrame:
    need = [prefix + c for c in (*cols, "error")]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} missing: pass a frame from clientsense.score_frame (prefix={prefix!r})")
    ok = df[df[prefix + "error"].isna()]
    return ok.rename(columns={prefix + c: c for c in cols})


def tone_by_language(df: pd.DataFrame, *, prefix: str = "", normalize: bool = True, ax: Axes | None = None) -> Axes:
    """Stacked horizontal bars: the tone mix of each language (share, or counts with ``normalize=False``)."""
    ok = _scored(df, prefix, ("language", "tone"))
    if ok.empty:
        raise ValueError("no scored rows without error to plot")
    table = pd.crosstab(ok["language"].astype(str), ok["tone"].astype(str)).reindex(columns=list(TONES), fill_value=0)
    totals = table.sum(axis=1)
    table = table.loc[totals.sort_values().index]
    values = table.div(table.sum(axis=1), axis=0) if normalize else table
    ax = _axes(ax, (7, 0.5 * len(table) + 1.6))
    left = np.zeros(len(values))
    for tone in TONES:
        ax.barh(values.index, values[tone], left=left, color=TONE_COLORS[tone], label=tone)
        left += values[tone].to_numpy(dtype=float)
    for y, lang in enumerate(values.index):
        ax.text(left[y], y, f"  n={int(totals[lang])}", va="center", fontsize=8)
    ax.set_xlabel("share of messages" if normalize else "messages")
    ax.set_xlim(0, 1.15 if normalize else left.max() * 1.15)
    ax.set_ylabel("language")
    ax.set_title("Tone by language")
    _legend_right(ax)
    return ax


def client_type_over_time(
    df: pd.DataFrame, time_col: str = "timestamp", *, freq: str = "D", prefix: str = "", ax: Axes | None = None
) -> Axes:
    """Stacked bars per period (``freq``: ``"D"``, ``"W"``, ``"M"``, …): the share of each client type."""
    ok = _scored(df, prefix, ("client_type",))
    if time_col not in ok.columns:
        raise KeyError(f"no column {time_col!r}")
    times = pd.to_datetime(ok[time_col], errors="coerce", format="mixed")
    ok = ok.assign(_period=times.dt.to_period(freq)).dropna(subset=["_period"])
    if ok.empty:
        raise ValueError(f"no scored rows with a valid {time_col!r} to plot")
    table = (
        pd.crosstab(ok["_period"], ok["client_type"].astype(str))
        .reindex(columns=list(CLIENT_TYPES), fill_value=0)
        .sort_index()
    )
    totals = table.sum(axis=1)
    shares = table.div(totals, axis=0)
    labels = [str(p) for p in shares.index]
    ax = _axes(ax, (max(5.0, 0.8 * len(labels) + 2), 3.6))
    bottom = np.zeros(len(shares))
    for ctype in CLIENT_TYPES:
        ax.bar(labels, shares[ctype], bottom=bottom, color=CLIENT_TYPE_COLORS[ctype], label=ctype.replace("_", " "))
        bottom += shares[ctype].to_numpy(dtype=float)
    for x, n in enumerate(totals):
        ax.text(x, 1.01, f"n={int(n)}", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("share of messages")
    ax.set_xlabel(f"period ({freq})")
    ax.set_title("Client type over time")
    _legend_right(ax)
    return ax


def _timeline_from_frame(
    df: pd.DataFrame, client: Any, sender_col: str, time_col: str | None, prefix: str
) -> tuple[list[Any], list[str], list[float], str]:
    from .history import rollup

    if client is None:
        raise ValueError("pass client=... (a value of the sender column) with a scored frame")
    if sender_col not in df.columns:
        raise KeyError(f"no column {sender_col!r}")
    part = df[df[sender_col] == client]
    if part.empty:
        raise ValueError(f"no messages from {client!r} in column {sender_col!r}")
    verdict = rollup(part, sender_col=sender_col, time_col=time_col, prefix=prefix).iloc[0]
    ok = _scored(part, prefix, ("tone", "p_abusive"))
    if time_col:
        ok = ok.assign(_t=pd.to_datetime(ok[time_col], errors="coerce", format="mixed")).sort_values(
            "_t", kind="mergesort"
        )
        xs: list[Any] = ok["_t"].tolist()
    else:
        xs = list(range(1, len(ok) + 1))
    pattern = verdict["pattern"] if pd.notna(verdict["pattern"]) else "no persistent pattern"
    note = f"{pattern}{', escalating' if verdict['escalating'] else ''} → {verdict['recommended_step']}"
    return xs, ok["tone"].astype(str).tolist(), ok["p_abusive"].astype(float).tolist(), note


def escalation_timeline(
    data: Any,
    client: Any = None,
    *,
    sender_col: str = "sender",
    time_col: str | None = None,
    prefix: str = "",
    ax: Axes | None = None,
) -> Axes:
    """One client's messages in order: tone (marker colour and height) and P(abusive) (dashed line).

    ``data`` is a :class:`~clientsense.ThreadAnalysis`, a sequence of :class:`~clientsense.Analysis`
    (oldest first), or a scored frame with ``sender_col`` (then ``client`` picks the sender, and
    ``time_col`` orders the messages). The title carries the history verdict.
    """
    if isinstance(data, pd.DataFrame):
        xs, tones, p_abusive, note = _timeline_from_frame(data, client, sender_col, time_col, prefix)
        name = str(client)
    else:
        messages = list(getattr(data, "messages", data))
        if not messages or not all(isinstance(m, Analysis) for m in messages):
            raise TypeError("escalation_timeline expects a ThreadAnalysis, Analysis objects or a scored DataFrame")
        xs = list(range(1, len(messages) + 1))
        tones = [m.tone for m in messages]
        p_abusive = [m.tone_proba.get("abusive", np.nan) for m in messages]
        step = getattr(data, "step", None)
        pattern = getattr(data, "pattern", None) or "no persistent pattern"
        trend = ", escalating" if getattr(data, "escalating", False) else ""
        note = f"{pattern}{trend}" + (f" → {step.id}" if step is not None else "")
        name = str(client) if client is not None else "thread"
    if not tones:
        raise ValueError("no scored messages to plot")
    ax = _axes(ax, (7, 3.2))
    sev = [SEVERITY.get(t, np.nan) for t in tones]
    ax.plot(xs, sev, color="#999", linewidth=1, zorder=1)
    for tone in TONES:
        px = [x for x, t in zip(xs, tones, strict=True) if t == tone]
        if px:
            ax.scatter(px, [SEVERITY[tone]] * len(px), s=70, color=TONE_COLORS[tone], label=tone, zorder=3)
    ax.plot(xs, [2 * p for p in p_abusive], "--", color=TONE_COLORS["abusive"], alpha=0.6, label="P(abusive) × 2")
    ax.set_yticks([0, 1, 2], ["neutral", "frustrated", "abusive"])
    ax.set_ylim(-0.3, 2.3)
    ax.set_xlabel("time" if time_col else "message #")
    if not time_col:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{name}: {note}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    if isinstance(xs[0], pd.Timestamp):
        ax.figure.autofmt_xdate()
    return ax


def _confusion(result: dict[str, Any], task: str, lang: str) -> tuple[list[str], np.ndarray]:
    if "in_domain_test" in result:  # models/metrics.json
        result = result["in_domain_test"]
    if task in result and isinstance(result[task], dict):  # an evaluate_corpus result
        result = result[task].get(lang, {})
    if "confusion" in result:  # a classification_report
        result = result["confusion"]
    if "labels" in result and "matrix" in result:
        return list(result["labels"]), np.asarray(result["matrix"], dtype=float)
    raise ValueError(f"no confusion matrix for task={task!r}, lang={lang!r} in this result")


def confusion_matrix(
    result: dict[str, Any], *, task: str = "tone", lang: str = "all", normalize: bool = False, ax: Axes | None = None
) -> Axes:
    """The confusion matrix of an evaluation (``clientsense evaluate --json``, ``evaluate_corpus``,
    ``metrics.json`` or one ``classification_report``); ``normalize`` shows each true row as shares."""
    labels, matrix = _confusion(result, task, lang)
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    ax = _axes(ax, (1.3 * len(labels) + 2.2, 1.1 * len(labels) + 1.6))
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    top = shown.max() if shown.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            text = f"{shown[i, j]:.0%}" if normalize else f"{int(matrix[i, j])}"
            ax.text(j, i, text, ha="center", va="center", color="white" if shown[i, j] > top / 2 else "black")
    short = [lab.replace("_", " ") for lab in labels]
    ax.set_xticks(range(len(labels)), short, rotation=20, ha="right")
    ax.set_yticks(range(len(labels)), short)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{task.replace('_', ' ')} — {lang}")
    return ax
