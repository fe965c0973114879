"""Throughput, latency, cold start, memory and model size of clientsense (``make bench``).

Messages: the authored corpus texts, cycled to N. Reference in the same run: langdetect alone
on the same messages. Writes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def messages(n: int) -> list[str]:
    texts = []
    for path in sorted((ROOT / "data/corpus").glob("*/*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(itertools.islice(itertools.cycle(texts), n))


def cold_start() -> float:
    code = "import time; t=time.perf_counter(); import clientsense; clientsense.analyze('hello'); print(time.perf_counter()-t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/RESULTS.md"))
    args = ap.parse_args()
    import clientsense
    from clientsense.artifacts import models_dir

    msgs = messages(args.n)
    mean_len = sum(map(len, msgs)) / len(msgs)
    analyzer = clientsense.default_analyzer()
    list(analyzer.analyze_many(msgs[:200]))  # warm-up
    rows = []
    for batch in (64, 512):
        t = time.perf_counter()
        n = sum(1 for _ in analyzer.analyze_many(msgs, batch_size=batch))
        rows.append((f"analyze_many, batch {batch}, 1 process", n / (time.perf_counter() - t)))
    t = time.perf_counter()
    n = sum(1 for _ in analyzer.analyze_many(msgs, batch_size=512, n_jobs=2))
    rows.append(("analyze_many, batch 512, n_jobs=2", n / (time.perf_counter() - t)))
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    sample = msgs[:2000]
    t = time.perf_counter()
    for m in sample:
        with contextlib.suppress(Exception):  # langdetect raises on text without features
            detect(m)
    langdetect_rate = len(sample) / (time.perf_counter() - t)
    rows.append(("langdetect alone (reference, language only)", langdetect_rate))
    lat = []
    for m in msgs[:500]:
        t = time.perf_counter()
        analyzer.analyze(m)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    size = sum(p.stat().st_size for p in models_dir().rglob("*") if p.is_file()) / 1e6
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cold = cold_start()
    lines = [
        f"Messages: {len(msgs)} authored client messages (mean {mean_len:.0f} characters), one machine, same run.",
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {name} | {rate:,.0f} messages/s |" for name, rate in rows],
        f"| clientsense end-to-end / langdetect alone (1 process) | {rows[1][1] / langdetect_rate:.2f}× |",
        f"| single-message latency p50 / p99 | {lat[len(lat) // 2]:.2f} ms / {lat[int(len(lat) * 0.99)]:.2f} ms |",
        f"| cold start (import + load + first message), median of 3 | {cold:.2f} s |",
        f"| peak RSS of this benchmark process | {rss:.0f} MB |",
        f"| models on disk | {size:.1f} MB |",
    ]
    Path(args.out).write_text("# Throughput benchmark\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
