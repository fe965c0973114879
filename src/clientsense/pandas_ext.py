"""pandas accessors: ``df.clientsense`` and ``series.clientsense`` (registered by ``import clientsense``,
or when pandas is imported after it: see ``_pandas_hook``).

>>> scored = df.clientsense.analyze(text_col="body")        # doctest: +SKIP
>>> results = df["body"].clientsense.analyze()             # result columns only, same index  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .frame import score_frame

if TYPE_CHECKING:
    from .history import HistoryConfig


@pd.api.extensions.register_dataframe_accessor("clientsense")
class ClientsenseFrameAccessor:
    """``df.clientsense``: score a table of messages, summarise and roll it up."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def analyze(
        self,
        text_col: str = "text",
        *,
        analyzer: Any = None,
        prefix: str = "",
        batch_size: int | None = None,
        n_jobs: int = 1,
        progress: bool = False,
        redact: bool = False,
    ) -> pd.DataFrame:
        """The frame with clientsense's typed result columns added; see :func:`clientsense.frame.score_frame`.

        Index and row order are kept; missing or non-text cells get an ``error`` and empty results.
        ``redact=True`` masks e-mails, phones, IBAN- and card-like numbers in the text columns.
        """
        return score_frame(
            self._df,
            text_col=text_col,
            analyzer=analyzer,
            prefix=prefix,
            batch_size=batch_size,
            n_jobs=n_jobs,
            progress=progress,
            redact=redact,
        )

    score = analyze

    def summary(self, prefix: str = "") -> dict[str, pd.DataFrame]:
        """Count tables of an already scored frame (language × tone, language × client type, steps)."""
        from .report import summary_tables

        return summary_tables(self._df, prefix)

    def rollup(
        self,
        sender_col: str = "sender",
        time_col: str | None = None,
        prefix: str = "",
        config: HistoryConfig | None = None,
    ) -> pd.DataFrame:
        """One row per sender of an already scored frame; see :func:`clientsense.history.rollup`."""
        from .history import DEFAULT_HISTORY, rollup

        return rollup(
            self._df, sender_col=sender_col, time_col=time_col, prefix=prefix, config=config or DEFAULT_HISTORY
        )


@pd.api.extensions.register_series_accessor("clientsense")
class ClientsenseSeriesAccessor:
    """``series.clientsense``: score a column of texts."""

    def __init__(self, series: pd.Series) -> None:
        self._s = series

    def analyze(
        self,
        *,
        analyzer: Any = None,
        prefix: str = "",
        batch_size: int | None = None,
        n_jobs: int = 1,
        progress: bool = False,
        redact: bool = False,
    ) -> pd.DataFrame:
        """The result columns only (no text), indexed like the series."""
        from .frame import RESULT_COLUMNS

        scored = ClientsenseFrameAccessor(self._s.rename("__text__").to_frame()).analyze(
            "__text__",
            analyzer=analyzer,
            prefix=prefix,
            batch_size=batch_size,
            n_jobs=n_jobs,
            progress=progress,
            redact=redact,
        )
        return scored[[prefix + c for c in RESULT_COLUMNS]]
