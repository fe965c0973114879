"""Conversation history: judge one client's messages over time, and roll a table up per sender.

A single message never ends a relationship. ``end_relationship`` is recommended only when a
persistent pattern holds over the client's recent messages (label guide, section 4): repeated
abuse, or a problem client who keeps making unworkable demands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import TONES
from .playbook.loader import Playbook
from .results import Analysis, Step

if TYPE_CHECKING:
    import pandas as pd

END = "end_relationship"
SEVERITY: dict[str, int] = {"neutral": 0, "frustrated": 1, "abusive": 2}
REPEATED_ABUSE = "repeated abuse"
PERSISTENT_DEMANDS = "persistent unworkable demands"


@dataclass(frozen=True)
class HistoryConfig:
    """Thresholds of the history stage; all counts are over the last ``window`` messages."""

    min_messages: int = 3
    """Messages from a client before any pattern is judged (at least 2: one message is never a pattern)."""
    abusive_count: int = 2
    """Abusive messages that make the 'repeated abuse' pattern (at least 2)."""
    problem_share: float = 0.6
    """Share of problem-client messages that, with ``demand_count`` demands, makes 'persistent unworkable demands'."""
    demand_count: int = 2
    """Problem-client messages carrying one of ``demand_signals`` needed for the demands pattern."""
    window: int = 10
    """Only the last ``window`` messages of a client are considered."""
    escalation_rise: float = 1.0
    """Least-squares rise of tone severity (neutral 0, frustrated 1, abusive 2) across the window
    that counts as escalating; needs ``min_messages`` messages."""
    require_current: bool = True
    """The latest message must itself be abusive or from a problem client: a client who calmed down is kept."""
    demand_signals: frozenset[str] = field(
        default=frozenset({"demand_outside_terms", "scope_creep", "payment_refusal", "disrespect_time"})
    )

    def __post_init__(self) -> None:
        if self.min_messages < 2 or self.abusive_count < 2:
            raise ValueError("min_messages and abusive_count must be ≥ 2: one message is never a pattern")
        if self.window < self.min_messages:
            raise ValueError(f"window ({self.window}) must be ≥ min_messages ({self.min_messages})")
        if not 0 < self.problem_share <= 1 or self.demand_count < 1:
            raise ValueError("problem_share must be in (0, 1] and demand_count ≥ 1")


DEFAULT_HISTORY = HistoryConfig()


@dataclass(frozen=True)
class _Verdict:
    considered: int
    tone_counts: dict[str, int]
    problem_share: float
    escalating: bool
    pattern: str | None
    reason: str


def _judge(tones: Sequence[str], types: Sequence[str], signals: Sequence[set[str]], cfg: HistoryConfig) -> _Verdict:
    """The pattern verdict over one client's messages (time order); shared by thread and rollup."""
    tones, types, signals = tones[-cfg.window :], types[-cfg.window :], signals[-cfg.window :]
    n = len(tones)
    counts = {t: sum(x == t for x in tones) for t in TONES}
    problem = [c == "problem_client" for c in types]
    share = sum(problem) / n
    demands = sum(p and bool(s & cfg.demand_signals) for p, s in zip(problem, signals, strict=True))
    sev = np.array([SEVERITY.get(t, 0) for t in tones], dtype=float)
    rise = float(np.polyfit(np.arange(n), sev, 1)[0] * (n - 1)) if n >= cfg.min_messages else 0.0
    escalating = n >= cfg.min_messages and rise >= cfg.escalation_rise - 1e-9
    trend = f"; tone escalating (rise {rise:+.2f})" if escalating else ""
    last = f"the last {n}"
    current = tones[-1] == "abusive" or problem[-1] or not cfg.require_current
    abuse = counts["abusive"] >= cfg.abusive_count
    demanding = share >= cfg.problem_share and demands >= cfg.demand_count
    pattern, why = None, ""
    if n < cfg.min_messages:
        why = f"only {n} message(s) from this client, {cfg.min_messages} needed to judge a pattern"
    elif (abuse or demanding) and not current:
        why = f"earlier trouble in {last} messages, but the latest message is calm: no persistent pattern"
    elif abuse:
        pattern = REPEATED_ABUSE
        why = f"{counts['abusive']} abusive messages among {last} from this client"
    elif demanding:
        pattern = PERSISTENT_DEMANDS
        why = (
            f"{sum(problem)} of {last} messages from this client are from a problem client "
            f"({share:.0%} ≥ {cfg.problem_share:.0%}), {demands} with unworkable demands"
        )
    else:
        why = (
            f"no persistent pattern in {last} messages from this client "
            f"({counts['abusive']} abusive, {share:.0%} problem client, {demands} with demands)"
        )
    reason = f"{why} → {END}{trend}" if pattern else f"{why}; the latest message's own step is kept{trend}"
    return _Verdict(n, counts, share, escalating, pattern, reason)


@dataclass(frozen=True)
class ThreadAnalysis:
    """One client's thread: the step for the latest message, possibly upgraded by the history."""

    messages: tuple[Analysis, ...]
    step: Step
    pattern: str | None
    escalating: bool
    tone_counts: dict[str, int]
    """Tones among the last ``considered`` messages (the window)."""
    problem_share: float
    """Share of problem-client messages among the last ``considered`` messages."""
    reason: str
    considered: int = 0

    def to_dict(self) -> dict[str, Any]:
        scalars = ("pattern", "escalating", "problem_share", "reason", "considered")
        return {"messages": [m.to_dict() for m in self.messages], "step": self.step.to_dict()} | {
            "tone_counts": dict(self.tone_counts),
            **{k: getattr(self, k) for k in scalars},
        }

    def __str__(self) -> str:
        from .display import thread_text

        return thread_text(self)

    def _repr_html_(self) -> str:
        from .display import thread_html

        return thread_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text("ThreadAnalysis(...)" if cycle else str(self))


def analyze_thread(
    analyses: Sequence[Analysis],
    playbook: Playbook,
    config: HistoryConfig = DEFAULT_HISTORY,
    fallback_language: str = "en",
) -> ThreadAnalysis:
    """Judge the messages of ONE client, in time order, already analysed.

    On a persistent pattern the latest message's step becomes ``end_relationship`` (localised to
    the latest step's language, its own step first among the alternatives); otherwise it is kept.
    """
    messages = tuple(analyses)
    if not messages:
        raise ValueError("analyze_thread needs at least one analysed message; the thread is empty")
    v = _judge(
        [m.tone for m in messages],
        [m.client_type for m in messages],
        [{s.id for s in m.signals} for m in messages],
        config,
    )
    latest = messages[-1].step
    step = latest
    if v.pattern:
        lang, texts = playbook.text(END, latest.lang or messages[-1].language, fallback_language)
        cited = {"insult", "profanity"} if v.pattern == REPEATED_ABUSE else config.demand_signals
        spans = [s.span for s in messages[-1].signals if s.id in cited] + list(latest.evidence)
        care = playbook.aftercare.get(lang) or playbook.aftercare.get(fallback_language) or {}
        step = Step(
            id=END,
            title=texts["title"],
            advice=texts["advice"],
            reason=v.reason,
            lang=lang,
            alternatives=tuple(dict.fromkeys(a for a in (latest.id, *latest.alternatives) if a != END)),
            evidence=tuple({(sp.start, sp.end): sp for sp in spans}.values()),
            example=(texts.get("examples") or [""])[0],
            aftercare=care.get("advice") or latest.aftercare,
        )
    return ThreadAnalysis(
        messages, step, v.pattern, v.escalating, v.tone_counts, v.problem_share, v.reason, v.considered
    )


@dataclass(frozen=True)
class ClientRollup:
    """One sender's summary row of :func:`rollup`; counts cover all their analysed messages."""

    sender: Any
    messages: int
    errors: int
    n_abusive: int
    n_frustrated: int
    n_neutral: int
    problem_share: float
    mean_p_abusive: float
    escalating: bool
    pattern: str | None
    recommended_step: str | None
    first: Any = None
    last: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLS = ("tone", "client_type", "p_abusive", "step", "signals", "error")


def _records_frame(records: Iterable[tuple[Any, ...]], sender_col: str, time_col: str) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for rec in records:
        if len(rec) not in (2, 3) or not isinstance(rec[1], Analysis):
            raise TypeError("rollup expects (sender, Analysis) or (sender, Analysis, timestamp) tuples")
        a, signals = rec[1], ",".join(sorted({s.id for s in rec[1].signals}))
        p_abusive = a.tone_proba.get("abusive", np.nan)
        rows.append(
            (rec[0], rec[2] if len(rec) == 3 else None, a.tone, a.client_type, p_abusive, a.step.id, signals, None)
        )
    return pd.DataFrame(rows, columns=[sender_col, time_col, *_COLS])


def _sender_row(sender: Any, g: pd.DataFrame, time_col: str | None, cfg: HistoryConfig) -> ClientRollup:
    import pandas as pd

    ok = g[g["error"].isna()]
    times = g[time_col].dropna() if time_col else pd.Series([])
    first, last = (times.min(), times.max()) if len(times) else (None, None)
    if not len(ok):
        return ClientRollup(sender, 0, len(g), 0, 0, 0, np.nan, np.nan, False, None, None, first, last)
    tones, types = ok["tone"].astype(str).tolist(), ok["client_type"].astype(str).tolist()
    sigs = [set(str(s).split(",")) - {""} if pd.notna(s) else set() for s in ok["signals"]]
    v = _judge(tones, types, sigs, cfg)
    return ClientRollup(
        sender=sender,
        messages=len(ok),
        errors=len(g) - len(ok),
        n_abusive=tones.count("abusive"),
        n_frustrated=tones.count("frustrated"),
        n_neutral=tones.count("neutral"),
        problem_share=types.count("problem_client") / len(ok),
        mean_p_abusive=float(ok["p_abusive"].astype(float).mean()),
        escalating=v.escalating,
        pattern=v.pattern,
        recommended_step=END if v.pattern else str(ok["step"].iloc[-1]),
        first=first,
        last=last,
    )


def rollup(
    records: Iterable[tuple[Any, ...]] | pd.DataFrame,
    *,
    sender_col: str = "sender",
    time_col: str | None = None,
    prefix: str = "",
    config: HistoryConfig = DEFAULT_HISTORY,
) -> pd.DataFrame:
    """One row per sender (first-seen order, none lost): counts, shares, escalation, pattern, step.

    ``records`` is an iterable of ``(sender, Analysis[, timestamp])`` or a frame from
    :func:`clientsense.score_frame` (result columns with ``prefix``) with ``sender_col`` and,
    optionally, ``time_col``; messages are sorted by time when one is given. Rows with an
    ``error`` are counted in ``errors``, not judged. ``recommended_step`` is ``end_relationship``
    only on a persistent pattern, else the step of the sender's latest message.
    """
    import pandas as pd

    if isinstance(records, pd.DataFrame):
        need = [sender_col, *([time_col] if time_col else []), *(prefix + c for c in _COLS)]
        missing = [c for c in need if c not in records.columns]
        if missing:
            raise KeyError(f"rollup: columns {missing} missing; columns are {list(records.columns)}")
        df = records[need].rename(columns={prefix + c: c for c in _COLS})
    else:
        df = _records_frame(records, sender_col, time_col or "_time")
        time_col = time_col or ("_time" if df["_time"].notna().any() else None)
    df = df.reset_index(drop=True)
    if time_col:
        col = df[time_col]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col)):
            df[time_col] = pd.to_datetime(col, errors="coerce", format="mixed")
        df = df.sort_values(time_col, kind="mergesort", na_position="last")
    rows = [_sender_row(s, g, time_col, config).to_dict() for s, g in df.groupby(sender_col, sort=False, dropna=False)]
    cols = [f for f in ClientRollup.__dataclass_fields__ if time_col or f not in ("first", "last")]
    out = pd.DataFrame(rows, columns=cols).astype({"pattern": "string", "recommended_step": "string"})
    return out.astype({c: "int64" for c in cols[1:6]} | {"escalating": bool}).rename(columns={"sender": sender_col})
