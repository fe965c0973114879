"""Leave one writer generation out: how the models do on writers they have never read.

Usage::

    PYTHONPATH=src python benchmarks/heldout_writers.py --generation 7 [--set step_C=1.0] [--out DIR]

The test split shares its writers with the training data, so it overstates what new writers
get. Each later batch of ``data/corpus`` was written by new writers (``data/README.md``). This
script fits every model as ``clientsense train`` does before its final refit (train split,
temperatures and signal thresholds on dev) on the corpus **without** one generation, then scores
that generation's **train and dev rows** with the full pipeline (rules included). The
generation's test rows are never read, so the figures may guide tuning without touching test.
``--set KEY=VALUE`` overrides a :class:`TrainConfig` field (e.g. ``tone_alpha=1e-4``) to
compare settings. One run takes about 13 minutes on one core. Prints a JSON summary; ``--out``
also keeps the fitted model directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from clientsense.analyzer import Analyzer
from clientsense.artifacts import write_manifest
from clientsense.training.corpora import load_public
from clientsense.training.corpus import load_corpus
from clientsense.training.report import evaluate_corpus
from clientsense.training.train import TrainConfig, _dump, _fit_models

# batch files of each writer generation that wrote for every language (data/README.md)
GENERATIONS: dict[int, frozenset[str]] = {
    6: frozenset({"en/b19", "fr/b20", "pl/b19", "ro/b19", "ru/b18"}),
    7: frozenset({"en/b20", "fr/b21", "pl/b20", "ro/b20", "ru/b19"}),
    8: frozenset({"en/b21", "fr/b22", "pl/b21", "ro/b21", "ru/b20"}),
    9: frozenset({"en/b22", "fr/b23", "pl/b22", "ro/b22", "ru/b21"}),
    10: frozenset({"en/b23", "fr/b24", "pl/b23", "ro/b23", "ro/b24", "ru/b22"}),
    11: frozenset({"en/b24", "fr/b25", "pl/b24", "ro/b25", "ru/b23"}),
    12: frozenset({"en/b25", "fr/b26", "pl/b25", "ro/b26", "ru/b24"}),
    13: frozenset({"en/b26", "fr/b27", "pl/b26", "ro/b27", "ru/b25"}),
    14: frozenset({"en/b27", "fr/b28", "pl/b27", "ro/b28", "ru/b26"}),
}


def batch_of(corpus: pd.DataFrame) -> pd.Series:
    """Each row's batch file as ``lang/bNN`` (the keys of :data:`GENERATIONS`)."""
    return corpus["lang"] + "/" + corpus["file"].str.removesuffix(".jsonl")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def overrides(pairs: list[str]) -> dict[str, Any]:
    """``["step_C=1.0"]`` → ``{"step_C": 1.0}``, checked against the fields of :class:`TrainConfig`."""
    known = {f.name for f in fields(TrainConfig)}
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in known:
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE with KEY one of {sorted(known)}")
        out[key] = _value(raw)
    return out


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline figures per language of an :func:`evaluate_corpus` result."""
    out = {}
    for lang in metrics["tone"]:
        abusive = metrics["tone"][lang]["per_class"]["abusive"]
        out[lang] = {
            "n": metrics["tone"][lang]["n"],
            "tone_macro_f1": round(metrics["tone"][lang]["macro_f1"], 3),
            "abusive_precision": round(abusive["precision"], 3),
            "abusive_recall": round(abusive["recall"], 3),
            "civil_flagged_abusive": round(metrics["civil_flagged_abusive"][lang], 3),
            "client_type_macro_f1": round(metrics["client_type"][lang]["macro_f1"], 3),
            "step_primary": round(metrics["step"][lang]["primary"], 3),
            "step_acceptable": round(metrics["step"][lang]["primary_or_acceptable"], 3),
            "signals_f1": round(metrics["signals"][lang]["f1"], 3),
        }
    return out


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The options every left-out-generation script takes: generation, data paths, overrides."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--generation", type=int, choices=sorted(GENERATIONS), required=True)
    ap.add_argument("--shared", default="../shared/corpora", help="the public corpora")
    ap.add_argument("--data", default="data/corpus", help="the authored corpus")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="TrainConfig override")
    return ap


def left_out_generation(args: argparse.Namespace) -> tuple[dict[str, Any], TrainConfig, pd.DataFrame, pd.DataFrame]:
    """``(overrides, config, held, rest)``: the generation's train and dev rows (never its test
    rows) and the corpus without that generation."""
    changed = overrides(args.set)
    cfg = replace(TrainConfig(shared_root=Path(args.shared), corpus_root=Path(args.data)), **changed)
    corpus = load_corpus(cfg.corpus_root)
    left_out = batch_of(corpus).isin(GENERATIONS[args.generation])
    if not left_out.any():
        raise SystemExit(f"no batch of generation {args.generation} in {cfg.corpus_root}")
    return changed, cfg, corpus[left_out & (corpus["split"] != "test")], corpus[~left_out]


def main(argv: list[str] | None = None) -> int:
    ap = argument_parser(__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="keep the fitted model directory here")
    args = ap.parse_args(argv)
    changed, cfg, held, rest = left_out_generation(args)
    models = _fit_models(
        load_public(cfg.shared_root, cfg.public_sources), rest, cfg, ("train",), rest[rest["split"] == "dev"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        _dump(models, out)
        write_manifest(out, {"version": f"held-out-generation-{args.generation}"})
        metrics = evaluate_corpus(Analyzer(out, trusted=True), held, "all", rest)
    report = {"generation": args.generation, "overrides": changed, "summary": summary(metrics)}
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
