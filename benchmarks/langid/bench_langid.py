"""Benchmark clientsense's language detector against langdetect, langid.py and lingua.

Data: lingua's test set (``shared/langid/lingua_testdata``), 16 languages, the held-out TEST
slice only (last 80 % of every file; the first 20 % was used for tuning, see
``tune_langid.py``). Every detector runs in its own subprocess, single-threaded, so that its
peak memory (RSS high-water mark minus the RSS after imports) and speed are measured alone.

    PYTHONPATH=src python benchmarks/langid/bench_langid.py [--quick] [--out RESULTS.md]

Needs (benchmark only): langdetect, langid, lingua-language-detector.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from lingua_data import KINDS, LANGS16, load  # noqa: E402

DETECTORS = (
    "clientsense",
    "clientsense-uniform",
    "clientsense-1by1",
    "langdetect",
    "langid",
    "lingua-high",
    "lingua-low",
)
CONF_BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)
IMPORTS = {
    "clientsense": "clientsense.language",
    "langdetect": "langdetect",
    "langid": "langid.langid",
    "lingua": "lingua",
}
"""The module each detector imports first (its import is reported apart from the peak)."""


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _make(name: str):  # type: ignore[no-untyped-def]
    """(setup, predict-many) for a detector; predict returns (lang or None, confidence)."""
    if name.startswith("clientsense"):
        from clientsense.language import SUPPORTED_LANGUAGES, LanguageDetector

        # clientsense-uniform: no built-in (web-share) prior, every language equally likely
        prior = {lg: 1.0 for lg in SUPPORTED_LANGUAGES} if name.endswith("uniform") else None
        det = LanguageDetector(backend="native", prior=prior)
        if name != "clientsense-1by1":
            return lambda xs: [(r.lang, r.confidence) for r in det.detect_many(xs)]
        return lambda xs: [(r.lang, r.confidence) for r in map(det.detect, xs)]
    if name == "langdetect":
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0

        def one(x: str) -> tuple[str | None, float]:
            try:
                best = detect_langs(x)[0]
                return best.lang, float(best.prob)
            except LangDetectException:
                return None, 0.0

        return lambda xs: [one(x) for x in xs]
    if name == "langid":
        from langid.langid import LanguageIdentifier, model

        ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
        return lambda xs: [(lang, float(p)) for lang, p in map(ident.classify, xs)]
    if name.startswith("lingua"):
        from lingua import LanguageDetectorBuilder

        b = LanguageDetectorBuilder.from_all_languages()
        if name == "lingua-low":
            b = b.with_low_accuracy_mode()
        det = b.with_preloaded_language_models().build()

        def one_l(x: str) -> tuple[str | None, float]:
            lang = det.detect_language_of(x)
            return (None, 0.0) if lang is None else (lang.iso_code_639_1.name.lower(), 1.0)

        return lambda xs: [one_l(x) for x in xs]
    raise ValueError(name)


def worker(name: str, quick: bool, repeat: int = 1) -> None:
    """Run one detector on every kind; print JSON (predictions, timings, memory).

    Each kind is predicted ``repeat`` times; the predictions are the first pass's and the
    time is the best pass's (the others are kept in ``passes``).
    """
    import numpy  # noqa: F401  (baseline includes numpy, which every candidate loads)

    base = _rss_kb()
    t0 = time.perf_counter()
    importlib.import_module(next(mod for prefix, mod in IMPORTS.items() if name.startswith(prefix)))
    import_kb = _rss_kb() - base
    predict = _make(name)
    predict(["warm-up text"])
    load_s = time.perf_counter() - t0
    out: dict[str, object] = {"name": name, "load_s": load_s}
    for kind in KINDS:
        texts, _ = load(kind, "test", limit=50 if quick else None)
        passes = []
        for i in range(max(repeat, 1)):
            t = time.process_time()  # CPU time: robust to other load on the machine
            got = predict(texts)
            passes.append(time.process_time() - t)
            if i == 0:
                preds = got
        out[kind] = {"pred": preds, "seconds": min(passes), "passes": passes, "n": len(texts)}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    out["mem_mb"] = (peak - base) / 1024.0
    out["import_mb"] = import_kb / 1024.0
    print(json.dumps(out))


def run_worker(name: str, quick: bool, repeat: int = 1) -> dict[str, object]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--repeat", str(repeat)]
    if quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"{name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return {"name": name, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _acc(preds: list[list[object]], gold: list[str], lang: str) -> float:
    idx = [i for i, g in enumerate(gold) if g == lang]
    return sum(preds[i][0] == lang for i in idx) / max(len(idx), 1)


def _passes(result: dict[str, object], kind: str) -> list[float]:
    """CPU seconds of every pass over ``kind`` (one, for results written before ``--repeat``)."""
    r = result[kind]
    assert isinstance(r, dict)
    return [float(x) for x in r.get("passes", [r["seconds"]])]


def report(results: dict[str, dict[str, object]], quick: bool) -> str:
    names = [n for n in DETECTORS if n in results and "error" not in results[n]]
    acc_names = [n for n in names if n != "clientsense-1by1"]
    lines = ["# Language identification benchmark", ""]
    lines += [
        "Data: lingua test set (`shared/langid/lingua_testdata`), 16 languages, **test slice = "
        "last 80 % of each file** ("
        + ("`--quick`: 50 per language" if quick else "800 texts per language and kind")
        + "). The first "
        "20 % (dev slice) was used to tune clientsense's scoring, calibration and mixed-text "
        "thresholds (`tune_langid.py`). Every detector uses its full language set "
        "(clientsense 55, langdetect 55, langid.py 97, lingua 75). Accuracy in %.",
        "",
    ]
    for kind in KINDS:
        gold = load(kind, "test", limit=50 if quick else None)[1]
        lines += [f"## {kind}", "", "| lang | " + " | ".join(acc_names) + " |", "|---|" + "---|" * len(acc_names)]
        means = {n: 0.0 for n in acc_names}
        for lang in LANGS16:
            row = []
            for n in acc_names:
                a = _acc(results[n][kind]["pred"], gold, lang)  # type: ignore[index]
                means[n] += a / len(LANGS16)
                row.append(f"{100 * a:.1f}")
            lines.append(f"| {lang} | " + " | ".join(row) + " |")
        lines.append("| **mean** | " + " | ".join(f"**{100 * means[n]:.1f}**" for n in acc_names) + " |")
        lines.append("")
    # speed
    n_pass = max((len(_passes(results[n], k)) for n in names for k in KINDS), default=1)
    lines += [
        f"## Speed (texts per CPU-second, best of {n_pass} passes, one process, one thread) and memory",
        "",
        "| detector | sentences | word pairs | single words | load s | peak RSS Δ MB | of which import MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in names:
        r = results[n]
        sp = [r[k]["n"] / r[k]["seconds"] for k in KINDS]  # type: ignore[index]
        imp = f"{r['import_mb']:.0f}" if "import_mb" in r else "–"
        lines.append(
            f"| {n} | " + " | ".join(f"{v:,.0f}" for v in sp) + f" | {r['load_s']:.2f} | {r['mem_mb']:.0f} | {imp} |"
        )
    if "langdetect" in results and "error" not in results["langdetect"]:
        lines += ["", "Speed relative to langdetect (same run):", ""]
        for n in ("clientsense", "clientsense-1by1"):
            if n in names:
                ratios = []
                for k in KINDS:
                    ours, ld = _passes(results[n], k), _passes(results["langdetect"], k)
                    best, worst = min(ld) / min(ours), min(ld) / max(ours)
                    ratios.append(f"{k} {best:.0f}× (slowest pass of ours vs fastest of langdetect: {worst:.0f}×)")
                lines.append(f"- {n}: " + ", ".join(ratios))
    lines += [
        "",
        "clientsense = `detect_many` (batched, default settings, including the built-in "
        "prior: web-content share ** 0.25, first-class languages raised to 0.5 %); "
        "clientsense-uniform = same without any prior; clientsense-1by1 = `detect` per text. "
        "Memory: peak RSS of the worker process minus its RSS after importing numpy, so it "
        "includes the detector's import, model and working memory; the last column is the part "
        "taken by importing the detector's module (for clientsense, `import clientsense.language` "
        "runs the package `__init__`, which imports pandas for the DataFrame accessor).",
        "",
    ]
    # calibration
    if "clientsense" in names:
        lines += [
            "## clientsense calibration (all kinds pooled, test slice)",
            "",
            "| confidence | texts | accuracy % |",
            "|---|---|---|",
        ]
        pairs: list[tuple[float, bool]] = []
        for kind in KINDS:
            gold = load(kind, "test", limit=50 if quick else None)[1]
            preds = results["clientsense"][kind]["pred"]  # type: ignore[index]
            pairs += [(float(p[1]), p[0] == g) for p, g in zip(preds, gold, strict=True)]
        for lo, hi in itertools.pairwise(CONF_BINS):
            sel = [ok for c, ok in pairs if lo <= c < hi]
            if sel:
                lines.append(
                    f"| [{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'} | "
                    f"{len(sel)} | {100 * sum(sel) / len(sel):.1f} |"
                )
        hi_conf = [ok for c, ok in pairs if c >= 0.9]
        if hi_conf:
            lines += [
                "",
                f"Texts with confidence ≥ 0.9: {len(hi_conf)} of {len(pairs)}, "
                f"{100 * sum(hi_conf) / len(hi_conf):.2f} % correct.",
                "",
            ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="50 texts per language and kind")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--only", nargs="*", default=list(DETECTORS), help="detectors to run")
    ap.add_argument("--repeat", type=int, default=3, help="passes over each kind; speed = the best pass (default 3)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.quick, args.repeat)
        return 0
    results = {}
    for name in args.only:
        t = time.perf_counter()
        results[name] = run_worker(name, args.quick, args.repeat)
        print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    text = report(results, args.quick)
    args.out.write_text(text, encoding="utf-8")
    (args.out.with_suffix(".json")).write_text(
        json.dumps(
            {
                n: {k: v for k, v in r.items() if k not in KINDS}
                | {k: {"n": r[k]["n"], "seconds": r[k]["seconds"], "passes": r[k]["passes"]} for k in KINDS if k in r}
                for n, r in results.items()
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
