"""Stage 8 — reporting: a summary of a scored table for people."""

from __future__ import annotations

import pandas as pd


def summary_tables(scored: pd.DataFrame, prefix: str = "") -> dict[str, pd.DataFrame]:
    """Counts by language × tone, client type per language, and recommended steps."""
    ok = scored[scored[prefix + "error"].isna()]
    lang, tone, ctype, step = (prefix + c for c in ("language", "tone", "client_type", "step"))
    return {
        "language × tone": pd.crosstab(ok[lang], ok[tone], margins=True, margins_name="total"),
        "language × client type": pd.crosstab(ok[lang], ok[ctype], margins=True, margins_name="total"),
        "recommended steps": ok[step].value_counts().rename("messages").to_frame(),
    }


def summary_text(scored: pd.DataFrame, prefix: str = "") -> str:
    """A plain-text summary of a scored table."""
    errors = int(scored[prefix + "error"].notna().sum())
    lines = [f"{len(scored)} messages scored, {errors} with errors"]
    for title, table in summary_tables(scored, prefix).items():
        table = table.loc[:, (table != 0).any(axis=0)] if title != "recommended steps" else table[table["messages"] > 0]
        lines += ["", title, table.to_string()]
    return "\n".join(lines)
