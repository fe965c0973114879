"""The languages clientsense can identify and where their training material comes from."""

from __future__ import annotations

# langdetect's 55 profiles, with zh-cn/zh-tw merged into "zh", plus Belarusian ("be").
LANGUAGES: tuple[str, ...] = (
    "af",
    "ar",
    "be",
    "bg",
    "bn",
    "ca",
    "cs",
    "cy",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fa",
    "fi",
    "fr",
    "gu",
    "he",
    "hi",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "kn",
    "ko",
    "lt",
    "lv",
    "mk",
    "ml",
    "mr",
    "ne",
    "nl",
    "no",
    "pa",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "so",
    "sq",
    "sv",
    "sw",
    "ta",
    "te",
    "th",
    "tl",
    "tr",
    "uk",
    "ur",
    "vi",
    "zh",
)

FIRST_CLASS: tuple[str, ...] = (
    "en",
    "ru",
    "fr",
    "ro",
    "pl",
    "uk",
    "be",
    "bg",
    "it",
    "es",
    "pt",
    "ca",
    "cs",
    "sk",
    "de",
    "nl",
)

# our code -> wordfreq code, for the languages with a wordfreq list
WORDFREQ_CODES: dict[str, str] = {
    code: code
    for code in (
        "ar",
        "bg",
        "bn",
        "ca",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "fa",
        "fi",
        "fr",
        "he",
        "hi",
        "hu",
        "id",
        "it",
        "ja",
        "ko",
        "lt",
        "lv",
        "mk",
        "nl",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sv",
        "ta",
        "tr",
        "uk",
        "ur",
        "vi",
        "zh",
    )
}
WORDFREQ_CODES.update({"no": "nb", "tl": "fil", "hr": "sh"})

# our code -> langdetect profile file, for the others (be has its own source)
PROFILE_CODES: dict[str, str] = {code: code for code in LANGUAGES if code not in WORDFREQ_CODES and code != "be"}

# Full alphabets of the Cyrillic languages: training words using other letters are dropped,
# so that e.g. a Russian "ы" in a Ukrainian web word list does not make "ы" Ukrainian.
CYRILLIC_ALPHABETS: dict[str, str] = {
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцџчш",
}
# Scripts with large inventories, where rare characters are legitimate.
NO_ALPHABET_FILTER: frozenset[str] = frozenset({"zh", "ja", "ko"})

# Rough share (%) of web content per language (public web-technology surveys, rounded;
# tiny languages set to 0.02). With ``prior_power`` p the default prior is share**p, after
# raising the first-class languages to at least FIRST_CLASS_MIN_SHARE.
WEB_SHARE: dict[str, float] = {
    "en": 49.0,
    "es": 6.0,
    "de": 5.6,
    "ja": 4.9,
    "fr": 4.4,
    "ru": 4.0,
    "pt": 3.8,
    "it": 2.6,
    "nl": 2.0,
    "tr": 1.8,
    "pl": 1.7,
    "fa": 1.4,
    "zh": 1.3,
    "vi": 1.1,
    "id": 1.0,
    "cs": 1.0,
    "ko": 0.7,
    "uk": 0.6,
    "ar": 0.6,
    "hu": 0.6,
    "el": 0.5,
    "sv": 0.5,
    "ro": 0.5,
    "da": 0.4,
    "sk": 0.4,
    "fi": 0.3,
    "th": 0.3,
    "bg": 0.3,
    "he": 0.3,
    "no": 0.3,
    "hr": 0.2,
    "lt": 0.2,
    "sl": 0.1,
    "ca": 0.1,
    "hi": 0.1,
    "lv": 0.1,
    "et": 0.1,
    "bn": 0.05,
    "sq": 0.05,
    "mk": 0.05,
    "be": 0.05,
    "tl": 0.05,
    "ta": 0.05,
    "ur": 0.05,
}
FIRST_CLASS_MIN_SHARE = 0.5


def base_log_prior(power: float) -> dict[str, float]:
    """log of the default prior weight of every language (unnormalised)."""
    import math

    out = {}
    for lang in LANGUAGES:
        share = WEB_SHARE.get(lang, 0.02)
        if lang in FIRST_CLASS:
            share = max(share, FIRST_CLASS_MIN_SHARE)
        out[lang] = power * math.log(share)
    return out
