"""The langdetect backend, used when the shipped model cannot be loaded."""

from __future__ import annotations

from collections.abc import Sequence

from clientsense.language import _text as tx
from clientsense.results import LanguageResult

_CODES = {"zh-cn": "zh", "zh-tw": "zh"}


def detect_with_langdetect(texts: list[str], languages: Sequence[str]) -> list[LanguageResult]:
    """Detect with langdetect (seed 0, so deterministic); never raises on a str."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    allowed = set(languages)
    out: list[LanguageResult] = []
    for text in texts:
        cleaned = tx.clean(text)
        if not any(ch.isalpha() for ch in cleaned):
            out.append(LanguageResult("und", 0.0))
            continue
        try:
            probs = detect_langs(cleaned[: tx.MAX_LETTERS * 2])
        except LangDetectException:
            out.append(LanguageResult("und", 0.0))
            continue
        merged: dict[str, float] = {}
        for lp in probs:
            code = _CODES.get(lp.lang, lp.lang)
            if code in allowed:
                merged[code] = merged.get(code, 0.0) + float(lp.prob)
        if not merged:
            out.append(LanguageResult("und", 0.0))
            continue
        total = sum(merged.values())
        top = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        cands = tuple((k, round(v / total, 4)) for k, v in top)
        out.append(LanguageResult(cands[0][0], cands[0][1], cands, None))
    return out
