"""No network access anywhere, and the same input gives the same output in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs before clientsense is imported: every way of opening a connection raises and is recorded.
BLOCK_SOCKETS = """
import socket, sys
ATTEMPTS = []
def _refuse(name):
    def refuse(*args, **kwargs):
        ATTEMPTS.append(name)
        raise OSError(f"network access blocked by the test ({name})")
    return refuse
socket.socket.connect = _refuse("connect")
socket.socket.connect_ex = _refuse("connect_ex")
socket.socket.sendto = _refuse("sendto")
socket.create_connection = _refuse("create_connection")
socket.getaddrinfo = _refuse("getaddrinfo")
socket.gethostbyname = _refuse("gethostbyname")
"""

USE_EVERYTHING = """
import warnings
warnings.simplefilter("error", RuntimeWarning)  # no silent fallback either
import pandas as pd
import clientsense
from clientsense.language import LanguageDetector, detect_languages
a = clientsense.analyze("Третий раз пишу, заказ так и не пришёл. Верните деньги.")
assert a.language == "ru", a.language
texts = ["Where is my parcel?", "Vous êtes des incompétents !", "Gdzie jest moja paczka?", "Mulțumesc frumos!"]
assert len(list(clientsense.analyze_many(texts))) == 4
clientsense.analyze_thread(texts)
assert len(clientsense.score_frame(pd.DataFrame({"text": texts + [None]}))) == 5
detect_languages(texts)
LanguageDetector(backend="langdetect").detect_many(texts)
clientsense.default_analyzer().info()
print("ATTEMPTS", ATTEMPTS)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTTP") and k != "CLIENTSENSE_MODELS"}
    env.update(extra)
    return env


def test_works_with_sockets_blocked() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_SOCKETS + USE_EVERYTHING],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ATTEMPTS []" in proc.stdout, proc.stdout


def test_the_block_itself_works() -> None:
    code = BLOCK_SOCKETS + "import urllib.request\ntry:\n    urllib.request.urlopen('http://example.com', timeout=5)\n"
    code += "except Exception as e:\n    print('refused', type(e).__name__)\nprint(ATTEMPTS)\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env())
    assert "refused" in proc.stdout and "[]" not in proc.stdout, proc.stdout + proc.stderr


ANALYZE_50 = """
import json, sys
from pathlib import Path
import clientsense
texts = []
for path in sorted(Path("data/corpus").glob("*/*.jsonl")):
    for line in path.read_text(encoding="utf-8").splitlines()[:2]:
        texts.append(json.loads(line)["text"])
texts = texts[:50]
n_jobs = int(sys.argv[1])
for a in clientsense.analyze_many(texts, batch_size=10, n_jobs=n_jobs):
    print(json.dumps(a.to_dict(), ensure_ascii=False, sort_keys=True))
"""


def test_same_output_across_processes_and_hash_seeds() -> None:
    outputs = []
    for seed, n_jobs in (("1", "1"), ("4242", "2")):
        proc = subprocess.run(
            [sys.executable, "-c", ANALYZE_50, n_jobs],
            capture_output=True,
            text=True,
            timeout=600,
            env=_env(PYTHONHASHSEED=seed),
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs.append(proc.stdout.splitlines())
    assert len(outputs[0]) == 50
    assert outputs[0] == outputs[1]
    assert len({json.loads(line)["tone"] for line in outputs[0]}) > 1  # a real mix of results, not a constant
