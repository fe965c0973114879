"""Training material of the language model (training only; never the evaluation texts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from collections import defaultdict
from pathlib import Path

from clientsense.language import _text as tx
from clientsense.language.languages import (
    CYRILLIC_ALPHABETS,
    NO_ALPHABET_FILTER,
    PROFILE_CODES,
    WORDFREQ_CODES,
)

MIN_LETTER_SHARE = 5e-5
"""Letters rarer than this (token share) are taken as foreign to a language."""
CJK_SCRIPTS = {"zh": ("han",), "ja": ("han", "kana"), "ko": ("hangul", "han")}
"""Scripts kept for the languages with large character inventories."""
MIN_SCRIPT_SHARE = 0.02
"""Scripts with a smaller share of a language's letters are taken as foreign to it."""

BE_FUNCTION_WORDS = (  # noqa: SIM905
    "і у ў на не з што да а як гэта ён па ад для але яго ці каб так яна за пра ўжо ужо таксама "
    "была быў былі ёсць толькі калі пры можа трэба вельмі дзе таму ўсе усе ўсё усё без пасля праз "
    "яны мы вы я ты іх яе гэтага гэты гэтая гэтыя свой сваё адзін адна два год гады таго тым "
    "яшчэ цяпер нават паміж супраць пад над перад беларусі беларусь беларускі беларускай краіны "
    "краіна чалавек людзі час сёння адразу потым больш менш бо хто чаму якія які якая якое сябе "
    "мне мяне нам нас вам вас будзе будуць можна няма нічога зноў кожны гэтым сваіх свае ў "
    "павінен трэба маюць мае зрабіць сказаў кажа вось тут там дзякуй добра дзень"
).split()


def fold(word: str) -> str:
    """Strip diacritics (ł→l as well), as people typing without them do."""
    s = unicodedata.normalize("NFD", word.replace("ł", "l").replace("đ", "d"))
    return "".join(c for c in s if not unicodedata.combining(c))


def wordfreq_words(lang: str) -> list[tuple[str, float]]:
    """(word, frequency) for one of our language codes, from wordfreq's best list."""
    import wordfreq

    wf = WORDFREQ_CODES[lang]
    freqs = wordfreq.get_frequency_dict(wf, "best")
    items = sorted(freqs.items(), key=lambda kv: (-kv[1], kv[0]))
    if lang == "hr":  # wordfreq's Serbo-Croatian list mixes scripts: keep the Latin words
        items = [(w, f) for w, f in items if not any("\u0400" <= c <= "\u04ff" for c in w)]
    return items


def belarusian_words() -> list[tuple[str, float]]:
    """Word forms from hunspell-be (uniform weight) plus weighted function words."""
    dic, aff = Path("/usr/share/hunspell/be_BY.dic"), Path("/usr/share/hunspell/be_BY.aff")
    if not dic.is_file():
        raise SystemExit("Belarusian source missing: apt-get install hunspell-be hunspell-tools")
    forms: list[str]
    if shutil.which("unmunch"):
        out = subprocess.run(["unmunch", str(dic), str(aff)], capture_output=True, check=True)
        forms = out.stdout.decode("utf-8", "replace").split()
    else:
        lines = dic.read_text(encoding="utf-8").splitlines()[1:]
        forms = [ln.split("/")[0] for ln in lines]
    forms = sorted({f.lower() for f in forms if f.isalpha()})
    # types carry no frequencies: give each a small uniform one; initial у also appears as ў
    items: dict[str, float] = {}
    base = 2e-7
    for f in forms:
        items[f] = base
        if f.startswith("у"):
            items["ў" + f[1:]] = base * 0.5
    for rank, w in enumerate(BE_FUNCTION_WORDS, start=1):
        items[w] = max(items.get(w, 0.0), 0.04 / rank)
    return sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))


def _script(ch: str) -> int:
    """Script id of a character (see ``_text.SCRIPT_NAMES``); 0 for non-letters."""
    cp = ord(ch)
    if cp >= 0x10000:
        return 17 if 0x20000 <= cp <= 0x323AF else 0
    return int(tx._tables()[1][cp])


def _allowed_letters(share: dict[str, float]) -> set[str]:
    """Letters native to a language, from their token shares.

    A letter is kept if its share is at least ``MIN_LETTER_SHARE`` and its script carries at
    least ``MIN_SCRIPT_SHARE`` of all letters (so Cyrillic words in an Estonian list go).
    """
    total = sum(share.values()) or 1.0
    by_script: dict[int, float] = defaultdict(float)
    for c, v in share.items():
        by_script[_script(c)] += v / total
    native = {sc for sc, v in by_script.items() if v >= MIN_SCRIPT_SHARE}
    return {c for c, v in share.items() if v / total >= MIN_LETTER_SHARE and _script(c) in native}


def profile_counts(lang: str) -> dict[str, float]:
    """langdetect's n-gram counts (orders 1-3), lower-cased, merged and alphabet-filtered."""
    import langdetect

    path = Path(langdetect.__file__).parent / "profiles" / PROFILE_CODES[lang]
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, float] = defaultdict(float)
    for gram, cnt in doc["freq"].items():
        out[tx.clean(gram) if gram.strip() else gram] += float(cnt)
    allowed = _allowed_letters({g: c for g, c in out.items() if len(g) == 1 and g.isalpha()})
    return {g: c for g, c in out.items() if all(ch in allowed or not ch.isalpha() for ch in g)}


def alphabet_filter(lang: str, items: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Drop words with letters foreign to the language (web word lists are noisy).

    Cyrillic languages use their full alphabet; the others keep their native letters
    (``_allowed_letters``); Chinese, Japanese and Korean only their native scripts.
    """
    if lang in CYRILLIC_ALPHABETS:
        allowed = set(CYRILLIC_ALPHABETS[lang])
        return [(w, f) for w, f in items if all(c in allowed or not c.isalpha() for c in tx.clean(w))]
    share: dict[str, float] = defaultdict(float)
    for w, f in items:
        for c in tx.clean(w):
            if c.isalpha():
                share[c] += f
    if lang in NO_ALPHABET_FILTER:  # thousands of rare but legitimate characters
        native = {tx.SCRIPT_NAMES.index(name) for name in CJK_SCRIPTS[lang]}
        return [(w, f) for w, f in items if all(_script(c) in native or not c.isalpha() for c in tx.clean(w))]
    allowed = _allowed_letters(share)
    return [(w, f) for w, f in items if all(c in allowed or not c.isalpha() for c in tx.clean(w))]
