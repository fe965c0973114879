"""clientsense — tell a client with a problem from a problem client, and what to do next.

>>> import clientsense
>>> r = clientsense.analyze("Third time I write: the order never arrived. Refund me.")
>>> r.language, r.client_type, r.tone, r.step.id  # doctest: +SKIP
('en', 'client_with_problem', 'frustrated', 'offer_simple_solution')
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import _pandas_hook
from .results import Analysis, LanguageResult, Signal, Span, Step

# the ``df.clientsense`` / ``series.clientsense`` accessors: registered now if pandas is loaded,
# otherwise when pandas is imported (importing it here would cost ~85 MB for every user)
_pandas_hook.install()

if TYPE_CHECKING:
    import pandas as pd

    from .analyzer import Analyzer
    from .history import HistoryConfig, ThreadAnalysis

__version__ = "0.1.0"
__all__ = [
    "Analysis",
    "Analyzer",
    "ClientRollup",
    "ExportOptions",
    "HistoryConfig",
    "LanguageResult",
    "Signal",
    "Span",
    "Step",
    "ThreadAnalysis",
    "analyze",
    "analyze_many",
    "analyze_thread",
    "default_analyzer",
    "detect_language",
    "read_export",
    "rollup",
    "score_export",
    "score_frame",
]

_DEFAULT: Analyzer | None = None
_LOCK = threading.Lock()


def default_analyzer() -> Analyzer:
    """The shared :class:`Analyzer` with the shipped model, created on first use."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            from .analyzer import Analyzer

            _DEFAULT = Analyzer()
        return _DEFAULT


def analyze(text: str) -> Analysis:
    """Analyse one message with the shipped model."""
    return default_analyzer().analyze(text)


def analyze_many(texts: Iterable[str], batch_size: int | None = None, n_jobs: int = 1) -> Iterator[Analysis]:
    """Analyse many messages lazily, in order."""
    return default_analyzer().analyze_many(texts, batch_size=batch_size, n_jobs=n_jobs)


def analyze_thread(texts: Iterable[str], config: HistoryConfig | None = None) -> ThreadAnalysis:
    """Analyse one client's messages (oldest first) and judge the whole thread."""
    from .history import DEFAULT_HISTORY

    return default_analyzer().analyze_thread(texts, config or DEFAULT_HISTORY)


def rollup(records: Any, **kwargs: Any) -> pd.DataFrame:
    """One row per sender (tone counts, problem share, escalation, pattern); see ``clientsense.history.rollup``."""
    from .history import rollup as _rollup

    return _rollup(records, **kwargs)


def detect_language(text: str, languages: Any = None) -> LanguageResult:
    """The language of ``text`` (``und`` when it has no letters)."""
    from .language import detect_language as _detect

    return _detect(text, languages)


def score_frame(df: pd.DataFrame, text_col: str = "text", **kwargs: Any) -> pd.DataFrame:
    """``df`` with clientsense's result columns added; see :func:`clientsense.frame.score_frame`."""
    from .frame import score_frame as _score

    return _score(df, text_col=text_col, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Analyzer":
        from .analyzer import Analyzer

        return Analyzer
    if name in ("read_export", "ExportOptions"):
        from . import readers

        return getattr(readers, name)
    if name == "score_export":
        from .emailscore import score_export

        return score_export
    if name in ("display", "plots", "spacy_component"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in ("HistoryConfig", "ThreadAnalysis", "ClientRollup"):
        from . import history

        return getattr(history, name)
    raise AttributeError(f"module 'clientsense' has no attribute {name!r}")
