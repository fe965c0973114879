"""Language identification for short client messages.

``detect_language(text)`` returns a calibrated ``LanguageResult``; ``detect_languages(texts)``
does the same for a batch (vectorised). ``LanguageDetector`` takes a candidate restriction and
a prior of expected languages. Model: character n-grams (orders 1-5) plus word frequencies,
trained by ``python -m clientsense.language.train``.
"""

from __future__ import annotations

from clientsense.language.detector import (
    LanguageDetector,
    default_detector,
    detect_language,
    detect_languages,
)
from clientsense.language.languages import FIRST_CLASS, LANGUAGES

SUPPORTED_LANGUAGES = LANGUAGES

__all__ = [
    "FIRST_CLASS",
    "SUPPORTED_LANGUAGES",
    "LanguageDetector",
    "default_detector",
    "detect_language",
    "detect_languages",
]
