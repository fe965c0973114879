"""Email exports benchmark (``make bench-email``): writes benchmarks/EMAIL_RESULTS.md.

1. parse + clean throughput on one core: an mbox of synthetic 2–5 KB messages (multipart/alternative
   plain + HTML, quoted history, signature, mixed charsets and transfer encodings) built from the
   authored corpus texts;
2. parse + clean + score throughput on the same messages (one process, ``n_jobs=1``);
3. memory while streaming a large generated mbox (default 200 MB; ``--mbox-mb 1024`` for 1 GB),
   sampled every 5 % of the file in a fresh process;
4. quote/signature removal accuracy on the reply-parser fixtures that ship expected outputs.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import quopri
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLIENTSENSE_SHARED", ROOT.parent / "shared"))
FILLER = (
    "Order details: reference {ref}, placed online, delivery to the address on file. "
    "Payment was made by card and the confirmation e-mail arrived the same day. "
)
CHARSETS = {"ru": "koi8-r", "pl": "iso-8859-2", "ro": "utf-8", "fr": "iso-8859-1", "en": "us-ascii"}


def corpus() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "data/corpus").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((path.parent.name, row["text"]))
    return out


def make_message(i: int, lang: str, text: str, rng: random.Random, codes: int = 0) -> bytes:
    """One 2–5 KB message: the client's text on top, quoted history and a signature below, plain + HTML.
    ``codes`` random reference codes (order, tracking and ticket numbers) follow the text: tokens
    never seen before, as real mail carries."""
    if codes:
        refs = " ".join(
            f"#{rng.randrange(10**8, 10**9)}" if k % 2 else f"TR{rng.randrange(10**10):010d}" for k in range(codes)
        )
        text = f"{text}\nRefs: {refs}"
    target = rng.randint(2000, 5000)
    charset = CHARSETS.get(lang, "utf-8")
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    for lines in range(min(40, target // 350), -1, -1):
        history = "\n".join(f"> {FILLER.format(ref=i * 7 + k)}" for k in range(lines))
        plain = f"{text}\n\nThanks,\nClient {i}\n-- \nClient {i} | +40 700 000 {i % 1000:03d}\n\n"
        plain += f"On Mon, 2 Jun 2025 at 10:{i % 60:02d}, Support <support@shop.example> wrote:\n{history}\n"
        html = "<html><body><p>" + text.replace("\n", "<br>") + f"</p><p>Thanks,<br>Client {i}</p>"
        html += (
            "<div class='gmail_quote'><blockquote>"
            + history.replace("\n", "<br>")
            + "</blockquote></div></body></html>"
        )
        if i % 2:
            body_plain, cte = quopri.encodestring(plain.encode(charset)).decode("ascii"), "quoted-printable"
        else:
            body_plain, cte = base64.encodebytes(plain.encode(charset)).decode("ascii"), "base64"
        body_html = base64.encodebytes(html.encode("utf-8")).decode("ascii")
        msg = (
            f"From: Client {i} <client{i % 500}@example.com>\nTo: support@shop.example\n"
            f"Subject: Re: order {i}\nDate: Mon, 02 Jun 2025 10:{i % 60:02d}:00 +0000\nMessage-ID: <m{i}@example.com>\n"
            f'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b{i}"\n\n'
            f"--b{i}\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n{body_plain}\n"
            f"--b{i}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{body_html}\n--b{i}--\n"
        )
        if len(msg) <= target:
            break
    return msg.encode("ascii")


def write_mbox(
    path: Path, n: int | None = None, size_mb: int | None = None, seed: int = 0, codes: int = 0
) -> tuple[int, int]:
    """Write an mbox of ``n`` messages (or of about ``size_mb`` MB, cycling 3,000 distinct ones); (messages, bytes)."""
    rng = random.Random(seed)
    texts = corpus()
    pool: list[bytes] = []
    count = size = 0
    limit = (size_mb or 0) * 1024 * 1024
    with open(path, "wb") as fh:
        for i, (lang, text) in enumerate(itertools.cycle(texts)):
            if (n is not None and i >= n) or (size_mb is not None and size >= limit):
                break
            if n is not None or len(pool) < 3000:
                msg = make_message(i, lang, text, rng, codes)
                if n is None:
                    pool.append(msg)
            else:
                msg = pool[i % len(pool)]
            sep = f"From client{i % 500}@example.com Mon Jun  2 10:{i % 60:02d}:00 2025\n".encode()
            fh.write(sep + msg + b"\n")
            count, size = count + 1, size + len(sep) + len(msg) + 1
    return count, size


def bench_parse(mbox: Path, repeat: int = 3) -> dict[str, float]:
    """Best of ``repeat`` full passes (the machine is shared: the best pass is the least disturbed one)."""
    from clientsense.readers import read_export

    best, n = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = sum(1 for _ in read_export(mbox))
        best = min(best, time.perf_counter() - t)
    return {"messages": n, "seconds": best, "per_s": n / best, "mb_per_s": mbox.stat().st_size / 1e6 / best}


def bench_score(mbox: Path) -> dict[str, float]:
    """Best of two runs each: the analysis alone on the cleaned texts, then parse + clean + score end to end."""
    import clientsense
    from clientsense.emailscore import score_export_frame
    from clientsense.readers import read_export

    analyzer = clientsense.default_analyzer()
    list(analyzer.analyze_many([text for _, text in corpus()[:500]]))  # load every lazy part of the models first
    texts = [r.text or "" for r in read_export(mbox)]
    score_only = end_to_end = float("inf")
    rows = 0
    for _ in range(2):
        t = time.perf_counter()
        list(analyzer.analyze_many(texts))
        score_only = min(score_only, time.perf_counter() - t)
        t = time.perf_counter()
        rows = len(score_export_frame(mbox, analyzer=analyzer))
        end_to_end = min(end_to_end, time.perf_counter() - t)
    return {
        "messages": rows,
        "seconds": end_to_end,
        "per_s": rows / end_to_end,
        "score_only_per_s": len(texts) / score_only,
        "mean_clean_chars": sum(map(len, texts)) / len(texts),
    }


_RSS_CHILD = """
import sys, time
from clientsense.readers import read_export
def rss(field='VmRSS:'):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
path, total, score = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "score"
stream = (rec.text or "" for rec in read_export(path))
if score:
    import clientsense
    stream = clientsense.default_analyzer().analyze_many(stream)
samples, step, n, t = [], max(1, total // 20), 0, time.perf_counter()
samples.append((0, rss()))
for _ in stream:
    n += 1
    if n % step == 0:
        samples.append((n, rss()))
print(n, time.perf_counter() - t, rss('VmHWM:'), samples)  # VmHWM: this process's own peak (ru_maxrss keeps the parent's)
"""


def _stream_rss(path: Path, n: int, size: int, score: bool) -> dict[str, object]:
    """Read (and with ``score``, analyse) the mbox at ``path`` in a fresh process, sampling its RSS."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(path), str(n), "score" if score else "read"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split(" ", 3)
    path.unlink()
    samples = eval(out[3])  # our own child's repr of a list of tuples
    rss = [s for _, s in samples[1:]]
    return {
        "mb": size / 1e6,
        "messages": int(out[0]),
        "seconds": float(out[1]),
        "peak_rss_mb": float(out[2]),
        "rss_first_5pct_mb": rss[0],
        "rss_last_mb": rss[-1],
        "rss_min_mb": min(rss),
        "rss_max_mb": max(rss),
    }


def bench_score_rss(n: int, codes: int, tmp: Path) -> dict[str, object]:
    """Parse + clean + score a stream of ``n`` messages that each carry ``codes`` never-seen reference
    codes (spaCy keeps every new token string: the memory a long real export would need)."""
    path = tmp / "stream_scored.mbox"
    n, size = write_mbox(path, n=n, seed=2, codes=codes)
    return {**_stream_rss(path, n, size, score=True), "codes": codes}


def bench_rss(size_mb: int, tmp: Path) -> dict[str, object]:
    """Parse + clean a generated mbox of about ``size_mb`` MB."""
    path = tmp / f"big_{size_mb}mb.mbox"
    n, size = write_mbox(path, size_mb=size_mb, seed=1)
    return _stream_rss(path, n, size, score=False)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quote_accuracy() -> list[tuple[str, int, float, str]]:
    """(fixture set, cases, accuracy, what is compared)."""
    from clientsense.readers import read_export
    from clientsense.readers.quotes import strip_reply

    rows: list[tuple[str, int, float, str]] = []
    d = SHARED / "email" / "discourse_email_reply_trimmer" / "test"
    if d.is_dir():
        pairs = [(p, d / "trimmed" / p.name) for p in sorted((d / "emails").glob("*.txt"))]
        got = [strip_reply(p.read_text(encoding="utf-8", errors="replace")).text for p, _ in pairs]
        exp = [e.read_text(encoding="utf-8", errors="replace") for _, e in pairs]
        exact = sum(_norm(g) == _norm(e) for g, e in zip(got, exp, strict=True)) / len(pairs)
        own = [_norm("\n".join(ln for ln in e.splitlines() if not ln.lstrip().startswith(">"))) for e in exp]
        ownacc = sum(_norm(g) == o for g, o in zip(got, own, strict=True)) / len(pairs)
        rows.append(("discourse emails → trimmed", len(pairs), exact, "exact text (whitespace-normalised)"))
        rows.append(
            ("discourse emails → trimmed", len(pairs), ownacc, "same, `>` lines dropped from the expected text")
        )
    t = SHARED / "email" / "mailgun_talon" / "fixtures"
    if t.is_dir():
        std = sorted((t / "standard_replies").glob("*.eml"))
        ok = sum(next(read_export(p)).text == "Hello" for p in std)
        rows.append(("talon standard_replies (12 clients)", len(std), ok / len(std), "reply text is exactly `Hello`"))
        pairs = [
            (t / "standard_replies" / f"{n}.eml", t / "standard_replies" / f"{n}_reply_text")
            for n in ("iphone", "sparrow")
        ]
        ok = 0
        for eml, expected in pairs:
            raw = next(read_export(eml, strip_quotes=False)).text or ""
            ok += _norm(strip_reply(raw, signatures=False).text) == _norm(expected.read_text(encoding="utf-8"))
        rows.append(
            (
                "talon *_reply_text",
                len(pairs),
                ok / len(pairs),
                "quote removal only (their expected text keeps the signature)",
            )
        )
        html = sorted((t / "html_replies").glob("*.html"))
        ok = sum(_norm(next(read_export(p)).text or "") == "Hi. I am fine. Thanks, Alex" for p in html)
        rows.append(
            ("talon html_replies", len(html), ok / len(html), "HTML → text, reply is `Hi. I am fine. Thanks, Alex`")
        )
    ro = ROOT / "tests" / "fixtures" / "email" / "ro"
    expected_ro = {
        "04_reply_gmail_ro.eml": "Mulțumesc pentru răspuns, dar coletul tot nu a sosit. Puteți verifica din nou la curier?",
        "05_reply_outlook_ro.eml": "Am primit produsul, dar lipsește încărcătorul din cutie. Vă rog să mi-l trimiteți separat. Cu stimă, Elena Dumitrescu",
        "08_html_reply_ro.eml": "Nu sunt de acord cu taxa de retur de 50 de lei. În contract scrie că returul este gratuit.",
    }
    ok = sum(_norm(next(read_export(ro / n)).text or "") == e for n, e in expected_ro.items())
    rows.append(("our Romanian replies", len(expected_ro), ok / len(expected_ro), "exact text"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--parse-n", type=int, default=5000)
    ap.add_argument("--score-n", type=int, default=2000)
    ap.add_argument("--mbox-mb", type=int, nargs="+", default=[200], help="sizes of the generated mbox for RSS")
    ap.add_argument("--stream-n", type=int, default=40000, help="messages of the scored stream for RSS")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "EMAIL_RESULTS.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        n, size = write_mbox(tmp / "parse.mbox", n=args.parse_n)
        parse = bench_parse(tmp / "parse.mbox")
        print("parse+clean", parse, flush=True)
        write_mbox(tmp / "score.mbox", n=args.score_n)
        score = bench_score(tmp / "score.mbox")
        print("parse+clean+score", score, flush=True)
        rss = [bench_rss(mb, tmp) for mb in args.mbox_mb]
        print("rss", rss, flush=True)
        scored = bench_score_rss(args.stream_n, 12, tmp)
        print("scored stream rss", scored, flush=True)
    quotes = quote_accuracy()
    lines = [
        "# Email exports benchmark",
        "",
        f"`python benchmarks/bench_email.py` on {os.cpu_count()} shared cores (other jobs running), one process; best of 3 passes for parse, of 2 for scoring, Python {sys.version.split()[0]}. "
        f"Messages: synthetic multipart/alternative mails of 2–5 KB (mean {size / n / 1000:.1f} KB) built from the authored "
        "corpus texts, with quoted history, a signature, an HTML part, base64/quoted-printable and koi8-r/iso-8859-2/"
        "iso-8859-1/utf-8 bodies.",
        "",
        "| measure | messages | result | target |",
        "|---|---|---|---|",
        f"| parse + clean (MIME, charsets, HTML, quotes, signatures) | {parse['messages']:,} | "
        f"**{parse['per_s']:,.0f} emails/s** ({parse['mb_per_s']:.1f} MB/s) | ≥ 1,000/s |",
        f"| parse + clean + score (full clientsense analysis) | {score['messages']:,} | "
        f"**{score['per_s']:,.0f} emails/s** | ≥ 1,000/s |",
        f"| score only (same cleaned texts, mean {score['mean_clean_chars']:.0f} chars) | {score['messages']:,} | "
        f"{score['score_only_per_s']:,.0f} emails/s | — |",
    ]
    streams = [(f"stream a generated {r['mb']:,.0f} MB mbox (parse + clean)", r) for r in rss]
    streams.append(
        (f"parse + clean + score a stream, {scored['codes']} never-seen reference codes per message", scored)
    )
    for label, r in streams:
        lines.append(
            f"| {label} | {r['messages']:,} | "
            f"RSS {r['rss_first_5pct_mb']:.0f} MB after 5 % → {r['rss_last_mb']:.0f} MB at the end "
            f"(min {r['rss_min_mb']:.0f}, max {r['rss_max_mb']:.0f}, peak {r['peak_rss_mb']:.0f} MB); "
            f"{r['messages'] / r['seconds']:,.0f} emails/s | flat memory |"
        )
    lines += [
        "",
        "## Quote and signature removal",
        "",
        "| fixture set | cases | accuracy | compared |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {cases} | {acc:.1%} | {what} |" for name, cases, acc, what in quotes]
    lines += [
        "",
        "The discourse expected outputs keep inline `>` quotes that sit between the writer's own lines; clientsense",
        "drops every `>` line by design (quoted text is somebody else's words and must not be scored), hence the",
        "second discourse row. Scoring is the bottleneck: the analysis itself (language, signals, tone and",
        "client-type models, playbook) runs at the rate in the 'score only' row, so the end-to-end 1,000 emails/s",
        "target is not met by the scorer; parsing and cleaning alone exceed it.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
