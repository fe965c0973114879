"""A spaCy pipeline component: ``nlp.add_pipe("clientsense")``.

Sets on each ``Doc``: ``doc._.tone``, ``doc._.tone_proba``, ``doc._.client_type``, ``doc._.client_type_proba``,
``doc._.language``, ``doc._.step`` (a :class:`~clientsense.Step`), ``doc._.signals`` (spaCy ``Span`` objects
labelled with the signal id) and ``doc._.clientsense`` (the whole :class:`~clientsense.Analysis`).
spaCy finds the factory through the ``spacy_factories`` entry point, so ``import clientsense`` is optional.
``nlp.pipe`` sends whole batches through :meth:`Analyzer.analyze_many`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

if TYPE_CHECKING:
    from spacy.tokens import Span as SpacySpan

    from .analyzer import Analyzer
    from .results import Analysis

FACTORY = "clientsense"
EXTENSIONS: tuple[str, ...] = (
    "clientsense",
    "tone",
    "tone_proba",
    "client_type",
    "client_type_proba",
    "language",
    "step",
    "signals",
)
for _name in EXTENSIONS:
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


def offset_map(cleaned: str, original: str) -> list[int | None]:
    """For each character of ``cleaned`` (clientsense's view), its offset in ``original`` (None if it has none)."""
    if cleaned == original:
        return list(range(len(cleaned)))
    shift = original.find(cleaned)
    if shift >= 0:  # the cleaner only stripped the ends
        return list(range(shift, shift + len(cleaned)))
    out: list[int | None] = [None] * len(cleaned)
    matcher = difflib.SequenceMatcher(None, cleaned, original, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            out[a + k] = b + k
    return out


def _to_original(mapping: list[int | None], start: int, end: int) -> tuple[int, int] | None:
    inside = [m for m in mapping[max(start, 0) : min(end, len(mapping))] if m is not None]
    return (inside[0], inside[-1] + 1) if inside else None


class ClientsenseComponent:
    """Runs an :class:`~clientsense.Analyzer` over docs and stores the results in ``Doc._``."""

    def __init__(self, nlp: Language, name: str, analyzer: Analyzer, batch_size: int = 256) -> None:
        self.nlp = nlp
        self.name = name
        self.analyzer = analyzer
        self.batch_size = batch_size

    def __call__(self, doc: Doc) -> Doc:
        return self._set(doc, self.analyzer.analyze(doc.text))

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        size = batch_size or self.batch_size
        for batch in minibatch(stream, size=size):
            results = self.analyzer.analyze_many([d.text for d in batch], batch_size=max(len(batch), 1))
            for doc, analysis in zip(batch, results, strict=True):
                yield self._set(doc, analysis)

    def _set(self, doc: Doc, a: Analysis) -> Doc:
        ext = doc._
        ext.clientsense = a
        ext.tone, ext.tone_proba = a.tone, dict(a.tone_proba)
        ext.client_type, ext.client_type_proba = a.client_type, dict(a.client_type_proba)
        ext.language, ext.step = a.language, a.step
        ext.signals = self._spans(doc, a)
        return doc

    @staticmethod
    def _spans(doc: Doc, a: Analysis) -> list[SpacySpan]:
        mapping = offset_map(a.text, doc.text)
        spans = []
        for s in a.signals:
            where = _to_original(mapping, s.span.start, s.span.end)
            span = doc.char_span(*where, label=s.id, alignment_mode="expand") if where else None
            if span is not None:
                spans.append(span)
        return spans


@Language.factory(
    FACTORY,
    default_config={"models": None, "trusted": False, "languages": None, "advice_language": None, "batch_size": 256},
    assigns=[f"doc._.{n}" for n in EXTENSIONS],
)
def make_clientsense(
    nlp: Language,
    name: str,
    models: str | None,
    trusted: bool,
    languages: list[str] | None,
    advice_language: str | None,
    batch_size: int,
) -> ClientsenseComponent:
    """The ``clientsense`` factory; with no settings it shares the shipped :func:`clientsense.default_analyzer`."""
    if models is None and languages is None and advice_language is None:
        from . import default_analyzer

        analyzer = default_analyzer()
    else:
        from .analyzer import Analyzer

        analyzer = Analyzer(models, languages=languages, advice_language=advice_language, trusted=trusted)
    return ClientsenseComponent(nlp, name, analyzer, batch_size)
