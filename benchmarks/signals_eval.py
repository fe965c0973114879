"""Measure the rule-based signal extractor against the labelled corpus.

Usage::

    PYTHONPATH=src python benchmarks/signals_eval.py --split dev [--lang ru] [--errors insult]

Reads ``data/corpus/<lang>/b*.jsonl``; a row's split is fixed by the hash of its ``id``
(train < 70 <= dev < 85 <= test). Scores are message-level: a predicted signal id is a true
positive when the same id is in the row's gold list. ``span_overlap`` is the share of those
true positives where a predicted span overlaps a gold span of the same id.
``--errors SIGNAL`` prints the false positives / negatives of one signal (never for test).
``--learned`` adds the hits of the learned detector shipped in ``models/signals.npz`` (verified
against the manifest) to the pattern hits, as the analyzer does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

from clientsense.clean import clean_text
from clientsense.config import LANGUAGES, SIGNALS
from clientsense.signal_model import SIGNAL_MODEL_FILE, SignalModel
from clientsense.signals import SignalExtractor

ROOT = Path(__file__).resolve().parents[1]


def split_of(row_id: str) -> str:
    """The fixed train/dev/test split of a corpus row."""
    h = int(hashlib.sha1(row_id.encode()).hexdigest(), 16) % 100
    return "train" if h < 70 else "dev" if h < 85 else "test"


def load_rows(corpus: Path, lang: str, split: str) -> list[dict]:
    """Rows of one language and split; unreadable lines are skipped."""
    rows = []
    for path in sorted((corpus / lang).glob("b*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "id" in row and split_of(str(row["id"])) == split:
                rows.append(row)
    return rows


def gold_spans(row: dict) -> dict[str, list[tuple[int, int]]]:
    """Gold signal ids with the character ranges of their spans (if found in the text)."""
    text: str = row.get("text", "")
    out: dict[str, list[tuple[int, int]]] = {}
    for item in row.get("signals") or []:
        sig, span = item.get("id"), item.get("span") or ""
        ranges = out.setdefault(sig, [])
        pos = text.find(span) if span else -1
        if pos >= 0:
            ranges.append((pos, pos + len(span)))
    return out


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("train", "dev", "test"), default="dev")
    ap.add_argument("--lang", action="append", help="language(s) to score (default: all)")
    ap.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    ap.add_argument("--per-signal", action="store_true", help="print the per-signal table")
    ap.add_argument("--errors", metavar="SIGNAL", help="print errors of one signal (not test)")
    ap.add_argument("--learned", action="store_true", help="add the learned detector's hits (models/signals.npz)")
    args = ap.parse_args(argv)
    if args.errors and args.split == "test":
        ap.error("--errors is not allowed on the test split")
    extractor = SignalExtractor()
    learned = _learned_model() if args.learned else None
    langs = args.lang or list(LANGUAGES)
    total: Counter[str] = Counter()
    per_signal: dict[str, Counter[str]] = {s: Counter() for s in SIGNALS}
    print(f"split={args.split}")
    print(f"{'lang':5} {'rows':>5} {'P':>6} {'R':>6} {'F1':>6} {'span_ovl':>8} {'ms/msg':>7}")
    for lang in langs:
        rows = load_rows(args.corpus, lang, args.split)
        c: Counter[str] = Counter()
        t0 = time.perf_counter()
        for row in rows:
            text = clean_text(row.get("text", "")).text
            row = {**row, "text": text}
            found = extractor.extract(text, lang)
            if learned is not None:  # its veto on the pattern hits, then its own hits
                found = learned.refine([(text, lang)], [found])[0]
            pred: dict[str, list[tuple[int, int]]] = {}
            for s in found:
                pred.setdefault(s.id, []).append((s.span.start, s.span.end))
            gold = gold_spans(row)
            for sig in set(pred) | set(gold):
                kind = "tp" if sig in pred and sig in gold else "fp" if sig in pred else "fn"
                c[kind] += 1
                per_signal.setdefault(sig, Counter())[kind] += 1
                if kind == "tp":
                    hit = any(a < d and c_ < b for a, b in pred[sig] for c_, d in gold[sig])
                    c["span_hit"] += hit
                    per_signal[sig]["span_hit"] += hit
                if args.errors == sig and kind != "tp":
                    shown = [text[a:b] for a, b in pred.get(sig, [])]
                    print(f"  {kind.upper()} {row['id']}: pred={shown} gold={gold_spans_text(row, sig)}")
                    print("     " + text.replace("\n", " ")[:400])
        ms = 1000 * (time.perf_counter() - t0) / max(len(rows), 1)
        p, r, f = prf(c["tp"], c["fp"], c["fn"])
        ovl = c["span_hit"] / c["tp"] if c["tp"] else 0.0
        print(f"{lang:5} {len(rows):5d} {p:6.3f} {r:6.3f} {f:6.3f} {ovl:8.3f} {ms:7.2f}")
        total.update(c)
    p, r, f = prf(total["tp"], total["fp"], total["fn"])
    ovl = total["span_hit"] / total["tp"] if total["tp"] else 0.0
    print(f"{'all':5} {'':5} {p:6.3f} {r:6.3f} {f:6.3f} {ovl:8.3f}")
    if args.per_signal:
        print(f"\n{'signal':22} {'tp':>4} {'fp':>4} {'fn':>4} {'P':>6} {'R':>6} {'F1':>6} {'span':>6}")
        for sig in SIGNALS:
            c = per_signal[sig]
            p, r, f = prf(c["tp"], c["fp"], c["fn"])
            ovl = c["span_hit"] / c["tp"] if c["tp"] else 0.0
            print(f"{sig:22} {c['tp']:4d} {c['fp']:4d} {c['fn']:4d} {p:6.3f} {r:6.3f} {f:6.3f} {ovl:6.3f}")
    return 0


def _learned_model() -> SignalModel:
    from clientsense.artifacts import models_dir, verify_file

    return SignalModel.load(verify_file(models_dir(), SIGNAL_MODEL_FILE))


def gold_spans_text(row: dict, sig: str) -> list[str]:
    return [s.get("span", "") for s in row.get("signals") or [] if s.get("id") == sig]


if __name__ == "__main__":
    sys.exit(main())
