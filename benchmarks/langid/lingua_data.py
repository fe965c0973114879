"""Loading lingua's evaluation texts (``shared/langid/lingua_testdata``) with a fixed split.

Dev slice = the first 20 % of the lines of every file (used for tuning and calibration);
test slice = the remaining 80 % (used only for reporting).
"""

from __future__ import annotations

import os
from pathlib import Path

LANGS16 = ("en", "ru", "fr", "ro", "pl", "uk", "be", "bg", "it", "es", "pt", "ca", "cs", "sk", "de", "nl")
KINDS = ("sentences", "word-pairs", "single-words")
DEV_FRACTION = 0.2


def data_root() -> Path:
    """``$LINGUA_TESTDATA`` or ``shared/langid/lingua_testdata`` next to the checkout."""
    env = os.environ.get("LINGUA_TESTDATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for up in here.parents:
        cand = up / "shared" / "langid" / "lingua_testdata"
        if cand.is_dir():
            return cand
    return Path("/work/shared/langid/lingua_testdata")


def load(
    kind: str, part: str, langs: tuple[str, ...] = LANGS16, limit: int | None = None
) -> tuple[list[str], list[str]]:
    """(texts, gold labels) of one kind; ``part`` is "dev" or "test"."""
    texts: list[str] = []
    gold: list[str] = []
    for lang in langs:
        lines = (data_root() / kind / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        k = int(len(lines) * DEV_FRACTION)
        sel = lines[:k] if part == "dev" else lines[k:]
        if limit is not None:
            sel = sel[:limit]
        texts += sel
        gold += [lang] * len(sel)
    return texts, gold
