"""Stage 4's tokenizers: ``spacy.blank(lang).tokenizer``, with French built in about 0.2 s instead of 2.4 s.

Importing ``spacy.lang.fr`` takes about 2.3 s: it compiles ``TOKEN_MATCH``, one 1.4 MB regular
expression of about 250 alternatives that each spell out the whole Unicode letter class. A
:class:`TokenizerSpec` file (``tokenizer_data/<lang>.msgpack``, written from the installed spaCy by
``python -m clientsense.tokenizers``) holds that tokenizer's other settings, as spaCy serialises
them, and the alternatives with the letter classes as placeholders. :func:`tokenizer_for` builds
the same tokenizer from it without importing the language, matching ``TOKEN_MATCH`` alternative by
alternative (:class:`AlternativesMatch`). A spec written for another spaCy release, or whose
rebuilt pattern differs from the recorded hash, is not used: ``spacy.blank`` is.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import TOKENIZER_MAX_LEXEMES

__all__ = ["AlternativesMatch", "TokenizerSpec", "clear_tokenizers", "tokenizer_for", "write_spec"]

SPEC_DIR = Path(__file__).parent / "tokenizer_data"
_CLASS_RE = re.compile(r"\[(?:\\.|[^\]\\])*\]")  # a character class, [...] (no nested sets)
SPEC_LANGUAGES: tuple[str, ...] = ("fr",)
"""Languages whose ``spacy.blank`` tokenizer takes more than half a second to build."""


def _letter_classes() -> dict[str, str]:
    """Placeholder → spaCy letter class, longest class first (so none is cut out of another)."""
    from spacy.lang.char_classes import ALPHA, ALPHA_LOWER, ALPHA_UPPER

    classes = {"\x00ALPHA\x00": ALPHA, "\x00ALPHA_LOWER\x00": ALPHA_LOWER, "\x00ALPHA_UPPER\x00": ALPHA_UPPER}
    return dict(sorted(classes.items(), key=lambda kv: -len(kv[1])))


def loose_class(chars: str, flags: str) -> str:
    """A class body that compiles in no time and matches every character ``[chars]`` matches under
    ``flags`` (checked on every code point): ``\\S`` plus the few white-space characters
    ``[chars]`` holds (spaCy's letter class takes in U+3000 with the CJK block)."""
    exact, loose = re.compile(f"{flags}[{chars}]"), re.compile(rf"{flags}\S")
    missed = [c for c in map(chr, range(sys.maxunicode + 1)) if exact.match(c) and not loose.match(c)]
    if len(missed) > 16:
        raise RuntimeError(f"a letter class holds {len(missed)} white-space characters")
    return r"\S" + "".join(f"\\U{ord(c):08x}" for c in missed)


class AlternativesMatch:
    """``re.compile(flags + "|".join(f"(?:{a})" for a in alternatives)).match``, as a truth value,
    without compiling the big pattern: a loose pattern (each letter class replaced by ``\\S``,
    which matches at least as much, so it matches whatever the exact one matches) is tried first;
    only when it matches are the alternatives tried, each loosely and then exactly, compiled on
    first use (about 10 ms each: the letter classes are large)."""

    def __init__(
        self, flags: str, alternatives: Sequence[str], classes: dict[str, str], loose_classes: dict[str, str]
    ) -> None:
        for a in alternatives:  # loosening a class widens it; loosening a literal or a negated class would not
            outside = _CLASS_RE.sub("", a)
            if any(p in outside for p in classes):
                raise ValueError(f"a letter-class placeholder outside a character class: {a[:80]!r}")
            if any(m.startswith("[^") and any(p in m for p in classes) for m in _CLASS_RE.findall(a)):
                raise ValueError(f"a letter-class placeholder inside a negated class: {a[:80]!r}")
        self.flags = flags
        self.exact_alternatives = [self._fill(a, classes) for a in alternatives]
        self.loose_alternatives = [self._fill(a, loose_classes) for a in alternatives]
        self._loose = re.compile(self._join(self.loose_alternatives)).match
        self._loose_each: dict[int, Callable[[str], Any]] = {}
        self._exact_each: dict[int, Callable[[str], Any]] = {}

    @staticmethod
    def _fill(alternative: str, classes: dict[str, str]) -> str:
        for placeholder, chars in classes.items():
            alternative = alternative.replace(placeholder, chars)
        return alternative

    def _join(self, alternatives: Sequence[str]) -> str:
        return self.flags + "|".join(f"(?:{a})" for a in alternatives)

    @property
    def pattern(self) -> str:
        """The exact pattern this matcher stands for."""
        return self._join(self.exact_alternatives)

    def _compiled(
        self, cache: dict[int, Callable[[str], Any]], alternatives: list[str], i: int
    ) -> Callable[[str], Any]:
        match = cache.get(i)
        if match is None:
            match = cache[i] = re.compile(self.flags + alternatives[i]).match
        return match

    def __call__(self, text: str) -> bool:
        if self._loose(text) is None:
            return False
        return any(
            self._compiled(self._loose_each, self.loose_alternatives, i)(text) is not None
            and self._compiled(self._exact_each, self.exact_alternatives, i)(text) is not None
            for i in range(len(self.exact_alternatives))
        )


@dataclass(frozen=True)
class TokenizerSpec:
    """What builds ``spacy.blank(lang).tokenizer`` without importing the language."""

    lang: str
    spacy_version: str
    tokenizer: bytes  # ``Tokenizer.to_bytes(exclude=["vocab", "token_match"])``
    token_match_flags: str
    token_match_alternatives: tuple[str, ...]  # letter classes as placeholders
    token_match_loose_classes: dict[str, str]  # placeholder → a short class matching at least as much
    token_match_sha256: str  # of the full exact pattern

    def to_bytes(self) -> bytes:
        import srsly

        return bytes(
            srsly.msgpack_dumps(
                {
                    "lang": self.lang,
                    "spacy_version": self.spacy_version,
                    "tokenizer": self.tokenizer,
                    "token_match_flags": self.token_match_flags,
                    "token_match_alternatives": list(self.token_match_alternatives),
                    "token_match_loose_classes": self.token_match_loose_classes,
                    "token_match_sha256": self.token_match_sha256,
                }
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TokenizerSpec:
        import srsly

        d = srsly.msgpack_loads(data)
        return cls(
            str(d["lang"]),
            str(d["spacy_version"]),
            bytes(d["tokenizer"]),
            str(d["token_match_flags"]),
            tuple(str(a) for a in d["token_match_alternatives"]),
            {str(k): str(v) for k, v in d["token_match_loose_classes"].items()},
            str(d["token_match_sha256"]),
        )

    @classmethod
    def from_spacy(cls, lang: str) -> TokenizerSpec:
        """Read the spec off the installed spaCy (imports the language: slow)."""
        import spacy

        tokenizer: Any = spacy.blank(lang).tokenizer
        pattern = tokenizer.token_match.__self__.pattern
        module = sys.modules[f"spacy.lang.{lang}.tokenizer_exceptions"]
        alternatives = list(module._regular_exp)
        flags = pattern[: len(pattern) - len("|".join(f"(?:{a})" for a in alternatives))]
        classes = _letter_classes()
        placeheld = []
        for a in alternatives:
            for placeholder, chars in classes.items():
                a = a.replace(chars, placeholder)
            placeheld.append(a)
        spec = cls(
            lang,
            spacy.about.__version__,
            tokenizer.to_bytes(exclude=["vocab", "token_match"]),
            flags,
            tuple(placeheld),
            {p: loose_class(chars, flags) for p, chars in classes.items() if any(p in a for a in placeheld)},
            hashlib.sha256(pattern.encode("utf-8")).hexdigest(),
        )
        if spec.token_match().pattern != pattern:
            raise RuntimeError(f"spacy.lang.{lang}: TOKEN_MATCH is not the alternation of _regular_exp")
        return spec

    def token_match(self) -> AlternativesMatch:
        return AlternativesMatch(
            self.token_match_flags, self.token_match_alternatives, _letter_classes(), self.token_match_loose_classes
        )

    def build(self) -> Any:
        """The tokenizer; ``ValueError`` when this spec does not fit the installed spaCy."""
        import spacy
        from spacy.attrs import NORM
        from spacy.lang.lex_attrs import LEX_ATTRS
        from spacy.lang.norm_exceptions import BASE_NORMS
        from spacy.tokenizer import Tokenizer
        from spacy.util import add_lookups
        from spacy.vocab import Vocab

        if self.spacy_version != spacy.about.__version__:
            raise ValueError(
                f"tokenizer spec for spaCy {self.spacy_version}, spaCy {spacy.about.__version__} installed"
            )
        match = self.token_match()
        if hashlib.sha256(match.pattern.encode("utf-8")).hexdigest() != self.token_match_sha256:
            raise ValueError("the rebuilt TOKEN_MATCH pattern does not match the recorded hash")
        # the language-independent lexical attributes spaCy's ``create_vocab`` gives every language
        getters = {**LEX_ATTRS, NORM: add_lookups(LEX_ATTRS[NORM], BASE_NORMS)}
        tokenizer = Tokenizer(Vocab(lex_attr_getters=getters))
        tokenizer.from_bytes(self.tokenizer, exclude=["vocab", "token_match"])
        tokenizer.token_match = match
        return tokenizer


def _spec_tokenizer(lang: str) -> Any | None:
    path = SPEC_DIR / f"{lang}.msgpack"
    if lang not in SPEC_LANGUAGES or not path.is_file():
        return None
    try:
        return TokenizerSpec.from_bytes(path.read_bytes()).build()
    except (ValueError, KeyError, TypeError):
        return None


_TOKENIZERS: dict[str, Any] = {}


def _build(lang: str) -> Any:
    tokenizer = _spec_tokenizer(lang)
    if tokenizer is not None:
        return tokenizer
    import spacy

    try:
        return spacy.blank(lang).tokenizer
    except Exception:  # spaCy has no such language (or it needs an extra package)
        return spacy.blank("xx").tokenizer


def tokenizer_for(lang: str) -> Any:
    """A cached tokenizer that splits as ``spacy.blank(lang).tokenizer`` does (French from its
    spec file when it fits the installed spaCy); ``xx`` (multi-language) when spaCy has no ``lang``.
    It is built anew once its vocabulary outgrows ``config.TOKENIZER_MAX_LEXEMES`` (bounded memory
    on endless streams; the tokens do not depend on what the tokenizer has seen)."""
    tokenizer = _TOKENIZERS.get(lang)
    if tokenizer is None or len(tokenizer.vocab) > TOKENIZER_MAX_LEXEMES:
        tokenizer = _TOKENIZERS[lang] = _build(lang)
    return tokenizer


def clear_tokenizers() -> None:
    """Forget every built tokenizer (the next use builds it again)."""
    _TOKENIZERS.clear()


def write_spec(lang: str, directory: Path = SPEC_DIR) -> Path:
    """Write ``<directory>/<lang>.msgpack`` from the installed spaCy."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{lang}.msgpack"
    path.write_bytes(TokenizerSpec.from_spacy(lang).to_bytes())
    return path


if __name__ == "__main__":  # python -m clientsense.tokenizers
    for code in SPEC_LANGUAGES:
        print(write_spec(code))
