"""The Analyzer: loads the artifacts once and runs the stages in order, nothing else.

read → clean → detect language → signals + featurize → classify → recommend → :class:`Analysis`.
Signals are extracted before classification: they are evidence for the policy and side
features of the client-type model.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .artifacts import ArtifactError, is_listed, models_dir, verify_file
from .clean import clean_text
from .compiled import CompiledClassifier, CompileError, compile_stacked, load_classifier
from .config import (
    CLIENT_TYPE_FILE,
    DEFAULT_CONFIG,
    LEGACY_MODEL_SUFFIX,
    STEP_FILE,
    TONE_FILE,
    UNDETERMINED,
    Config,
)
from .history import DEFAULT_HISTORY, HistoryConfig, ThreadAnalysis, analyze_thread
from .language import LanguageDetector
from .playbook import Policy, load_playbook, load_rules
from .results import Analysis, LanguageResult, Signal
from .signal_model import LEGACY_SIGNAL_MODEL_FILE, SIGNAL_MODEL_FILE, SignalModel
from .signals import SignalExtractor, text_view
from .textfeatures import signal_flag_arrays, tone_proba_arrays
from .threats import HarmThreats, apply_threats

_M = TypeVar("_M")


class Analyzer:
    """Analyse client messages with the shipped (or a given) model.

    Parameters
    ----------
    models: a model directory; default the shipped one. Any other directory loads only with
        ``trusted=True`` and after its SHA-256 manifest checks out. Models are array files
        (never unpickled); a directory of an earlier version's pickled estimators (``.joblib``)
        is unpickled, then turned into the same array form.
    playbook, rules: a business's own playbook texts / rule table (TOML); default the packaged ones.
    languages: restrict language detection to these ISO codes (e.g. ``["en", "ro"]``).
    advice_language: return advice in this language instead of the message's.
    """

    def __init__(
        self,
        models: str | Path | None = None,
        *,
        playbook: str | Path | None = None,
        rules: str | Path | None = None,
        languages: Sequence[str] | None = None,
        advice_language: str | None = None,
        config: Config | None = None,
        trusted: bool = False,
    ) -> None:
        self.config = replace(config or DEFAULT_CONFIG, languages=tuple(languages) if languages else None)
        shipped = models_dir()
        self.models_path = Path(models) if models is not None else shipped
        if self.models_path.resolve() != shipped.resolve() and not trusted:
            raise ArtifactError(
                f"{self.models_path} is not the shipped model: loading it unpickles code. "
                "Pass trusted=True only for a model directory you built or trust."
            )
        self._spec = (str(self.models_path), playbook, rules, self.config.languages, advice_language, trusted)
        self.tone_model: CompiledClassifier = self._required(TONE_FILE)
        self.client_type_model: CompiledClassifier = self._required(CLIENT_TYPE_FILE)
        self.step_model: CompiledClassifier | None = self._classifier(STEP_FILE)
        self.detector = LanguageDetector(languages=self.config.languages)
        self.signals = SignalExtractor()
        self.threats = HarmThreats()
        self.signal_model: SignalModel | None = self._signal_model()
        self.playbook = load_playbook(Path(playbook) if playbook else None)
        self.policy = Policy(self.playbook, load_rules(Path(rules) if rules else None), self.config.fallback_language)
        self.advice_language = advice_language

    def _required(self, name: str) -> CompiledClassifier:
        model = self._classifier(name)
        if model is None:
            verify_file(self.models_path, name)  # raises: no manifest, or the file is not listed
            raise ArtifactError(f"{name} is not listed in {self.models_path}")  # pragma: no cover
        return model

    def _classifier(self, name: str) -> CompiledClassifier | None:
        """The classifier ``name`` (an array file), or its pickled form; ``None`` if neither is listed."""
        if not is_listed(self.models_path, name):
            legacy = name.removesuffix(".npz") + LEGACY_MODEL_SUFFIX
            if not is_listed(self.models_path, legacy):
                return None
            from .classify import StackedClassifier

            model = self._unpickle(legacy, StackedClassifier)
            try:
                return compile_stacked(model)
            except CompileError as exc:
                raise ArtifactError(f"{self.models_path / legacy}: {exc}") from exc
        return self._read_arrays(name, load_classifier, "classifier")

    def _signal_model(self) -> SignalModel | None:
        model: SignalModel
        if is_listed(self.models_path, SIGNAL_MODEL_FILE):
            model = self._read_arrays(SIGNAL_MODEL_FILE, SignalModel.load, "signal model")
        elif is_listed(self.models_path, LEGACY_SIGNAL_MODEL_FILE):
            model = self._unpickle(LEGACY_SIGNAL_MODEL_FILE, SignalModel)
        else:
            return None
        model.densify()  # one dense block, no sparse copy beside it: about 10 MB less held
        return model

    def _read_arrays(self, name: str, load: Callable[[Path], _M], what: str) -> _M:
        """Array file ``name``, checked against the manifest, read by ``load``; a file that does
        not hold what ``load`` expects is an :class:`ArtifactError`."""
        path = verify_file(self.models_path, name)
        try:
            return load(path)
        except (CompileError, KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{path} does not hold a clientsense {what}: {exc}") from exc

    def _unpickle(self, name: str, kind: type) -> Any:
        import joblib

        path = verify_file(self.models_path, name)  # only a trusted or shipped directory gets here
        model = joblib.load(path)
        if not isinstance(model, kind):
            raise ArtifactError(f"{path} does not hold a clientsense {kind.__name__}")
        return model

    def analyze(self, text: str) -> Analysis:
        """Analyse one message. ``text`` must be a ``str`` (empty is allowed)."""
        return self._batch([text])[0]

    def analyze_many(self, texts: Iterable[str], batch_size: int | None = None, n_jobs: int = 1) -> Iterator[Analysis]:
        """Analyse a stream of messages lazily, ``batch_size`` at a time, in input order.

        ``n_jobs > 1`` spreads batches over worker processes (joblib/loky); each worker loads the
        models once.
        """
        size = self.config.batch_size if batch_size is None else batch_size
        if size < 1:
            raise ValueError("batch_size must be ≥ 1")
        batches = _chunks(iter(texts), size)
        if n_jobs == 1:
            for batch in batches:
                yield from self._batch(batch)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")
        window = max(n_jobs * 4, 1)
        while True:
            group = list(itertools.islice(batches, window))
            if not group:
                return
            for result in parallel(delayed(_analyze_in_worker)(self._spec, b) for b in group):
                yield from result

    def analyze_thread(self, texts: Iterable[str], config: HistoryConfig = DEFAULT_HISTORY) -> ThreadAnalysis:
        """Analyse one client's messages (oldest first) and judge the thread as a whole.

        The latest message's step becomes ``end_relationship`` only on a persistent pattern
        (repeated abuse or unworkable demands), as set by ``config``; never from one message.
        """
        return analyze_thread(list(self.analyze_many(texts)), self.playbook, config, self.config.fallback_language)

    def _batch(self, texts: Sequence[str]) -> list[Analysis]:
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"analyze expects str messages, got {type(t).__name__}")
        step = max(self.config.chunk_size, 1)
        if len(texts) <= step:
            return self._chunk(texts)
        return [a for i in range(0, len(texts), step) for a in self._chunk(texts[i : i + step])]

    def _chunk(self, texts: Sequence[str]) -> list[Analysis]:
        cleaned = [clean_text(t, self.config) for t in texts]
        detected = iter(self.detector.detect_many([c.text for c in cleaned if c.has_letters]))
        langs: list[LanguageResult] = [
            next(detected) if c.has_letters else LanguageResult(UNDETERMINED, 0.0) for c in cleaned
        ]
        views = [text_view(c.text) for c in cleaned]  # what both pattern stages read
        found = [self.signals.extract(c.text, lr.lang, v) for c, lr, v in zip(cleaned, langs, views, strict=True)]
        threats = [self.threats.find(c.text, lr.lang, v) for c, lr, v in zip(cleaned, langs, views, strict=True)]
        # a message without letters (only URLs, numbers, emoji) gives the classifiers nothing to
        # read: they see an empty text, so every such message gets the same, defined judgement
        rows = [(c.text if c.has_letters else "", lr.lang) for c, lr in zip(cleaned, langs, strict=True)]
        # the side features of features.side_frame, as arrays: no DataFrame on the hot path
        columns = signal_flag_arrays([{s.id for s in f} for f in found])
        tone_p = self.tone_model.predict_proba_columns(rows, columns)
        # a threat of physical harm is abuse (label guide) whatever words it uses: the rule's
        # posterior replaces the tone model's before the client-type and step models read it
        tone_p = apply_threats(tone_p, list(self.tone_model.classes_), [bool(t) for t in threats])
        columns.update(tone_proba_arrays(tone_p, list(self.tone_model.classes_)))
        type_p = self.client_type_model.predict_proba_columns(rows, columns)
        found = self._add_learned(rows, found)  # the classifiers were trained on pattern flags only
        step_p: Sequence[np.ndarray | None] = [None] * len(rows)
        if self.step_model is not None:
            problem = list(self.client_type_model.classes_).index("problem_client")
            columns["p_problem_client"] = type_p[:, problem]
            step_p = list(self.step_model.predict_proba_columns(rows, columns))
        out = []
        for c, lr, signals, threat, tp, cp, sp in zip(
            cleaned, langs, found, threats, tone_p, type_p, step_p, strict=True
        ):
            tone_proba = _proba_dict(self.tone_model.classes_, tp)
            type_proba = _proba_dict(self.client_type_model.classes_, cp)
            tone = decide_tone(tone_proba, self.config.abusive_min_proba)
            client_type = max(type_proba, key=type_proba.__getitem__)
            step = self.policy.recommend(
                tone,
                client_type,
                {**tone_proba, **type_proba},
                signals,
                lr.lang,
                self.advice_language,
                step_proba=None
                if sp is None or self.step_model is None or not c.has_letters
                else _proba_dict(self.step_model.classes_, sp),
                threats=threat,
            )
            warnings = []
            if not c.has_letters:
                warnings.append("no linguistic content")
            if c.truncated:
                warnings.append(f"text cut to {len(c.text)} of {c.original_length} characters")
            if lr.lang == UNDETERMINED and c.has_letters:
                warnings.append("language undetermined")
            out.append(
                Analysis(
                    text=c.text,
                    language=lr.lang,
                    language_confidence=lr.confidence,
                    client_type=client_type,
                    client_type_proba=type_proba,
                    tone=tone,
                    tone_proba=tone_proba,
                    step=step,
                    signals=signals,
                    language_result=lr,
                    truncated=c.truncated,
                    warnings=tuple(warnings),
                )
            )
        return out

    def _add_learned(
        self, rows: Sequence[tuple[str, str]], found: list[tuple[Signal, ...]]
    ) -> list[tuple[Signal, ...]]:
        """Pattern hits the learned detector does not veto, plus its hits for ids the patterns
        missed (if shipped; :meth:`~clientsense.signal_model.SignalModel.refine`)."""
        if self.signal_model is None or not rows:
            return found
        return self.signal_model.refine(rows, found)

    def info(self) -> dict[str, Any]:
        """Model version, languages and paths (for ``clientsense info``)."""
        import json

        meta = json.loads((self.models_path / "MANIFEST.json").read_text(encoding="utf-8"))
        return {
            "model_version": meta.get("version"),
            "models_path": str(self.models_path),
            "playbook": self.playbook.source,
            "advice_languages": list(self.playbook.languages),
            "tone_classes": self.tone_model.classes_.tolist(),
            "client_type_classes": self.client_type_model.classes_.tolist(),
            "step_model": self.step_model is not None,
            "signal_model": self.signal_model is not None,
            "step_classes": self.step_model.classes_.tolist() if self.step_model is not None else [],
            "per_language_calibration": sorted(self.tone_model.temperatures),
        }


def decide_tone(proba: Mapping[str, float], abusive_min_proba: float | None) -> str:
    """The tone label: ``abusive`` once its probability reaches ``abusive_min_proba``, else the likeliest."""
    if abusive_min_proba is not None and proba.get("abusive", 0.0) >= abusive_min_proba:
        return "abusive"
    return max(proba, key=proba.__getitem__)


def _proba_dict(classes: np.ndarray, row: np.ndarray) -> dict[str, float]:
    return {str(c): round(float(p), 6) for c, p in zip(classes, row, strict=True)}


def _chunks(it: Iterator[str], size: int) -> Iterator[list[str]]:
    while batch := list(itertools.islice(it, size)):
        yield batch


_WORKER_CACHE: dict[tuple[Any, ...], Analyzer] = {}


def _analyze_in_worker(spec: tuple[Any, ...], texts: list[str]) -> list[Analysis]:
    if spec not in _WORKER_CACHE:
        models, playbook, rules, languages, advice_language, trusted = spec
        _WORKER_CACHE[spec] = Analyzer(
            models,
            playbook=playbook,
            rules=rules,
            languages=languages,
            advice_language=advice_language,
            trusted=trusted,
        )
    return _WORKER_CACHE[spec]._batch(texts)
