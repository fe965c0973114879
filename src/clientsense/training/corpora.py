"""Readers for the public labelled corpora in ``../shared/corpora`` (read in place, never copied).

Every reader returns a DataFrame with columns ``text, lang, tone, source, split`` where ``tone`` is
mapped onto the label guide (abusive / frustrated / neutral) and ``split`` is the corpus' own
test split where it has one, otherwise a fixed hash split (15 % test).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

csv.field_size_limit(10**8)
COLUMNS = ["text", "lang", "tone", "source", "split"]


def hash_split(key: str, test_pct: int = 15, dev_pct: int = 0) -> str:
    """``train``/``dev``/``test`` from a stable hash of ``key`` (never reshuffled)."""
    h = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100
    if h >= 100 - test_pct:
        return "test"
    if h >= 100 - test_pct - dev_pct:
        return "dev"
    return "train"


def _frame(rows: list[tuple[str, str, str, str]], lang: str, source: str) -> pd.DataFrame:
    """Rows are (text, tone, split, key); split '' means hash split on key."""
    out = [
        (t.strip(), lang, tone, source, split or hash_split(f"{source}:{key}"))
        for t, tone, split, key in rows
        if isinstance(t, str) and t.strip()
    ]
    return pd.DataFrame(out, columns=COLUMNS)


def en_davidson(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "en_davidson/labeled_data.csv")
    text = df["tweet"].str.replace(r"&amp;", "&", regex=False).str.replace(r"@\w+:?", "@user", regex=True)
    text = text.str.replace(r"^(?:!+\s*)?RT\s+", "", regex=True)
    tone = df["class"].map({0: "abusive", 1: "abusive", 2: "neutral"})
    return _frame(list(zip(text, tone, [""] * len(df), df.iloc[:, 0].astype(str), strict=True)), "en", "en_davidson")


def en_convabuse(root: Path) -> pd.DataFrame:
    rows = []
    for name, split in (("ConvAbuseEMNLPtrain.csv", "train"), ("ConvAbuseEMNLPvalid.csv", "test")):
        with open(root / "en_convabuse" / name, encoding="utf-8") as fh:
            records = list(csv.DictReader(fh))
        for r in records:
            votes = abuse = 0
            for key, value in r.items():
                if "_is_abuse." in key and value and value.strip().startswith("1"):
                    votes += 1
                    abuse += key.rsplit(".", 1)[1] in ("-1", "-2", "-3")
            if votes:
                tone = "abusive" if abuse * 2 > votes else "neutral"
                rows.append((r["user"], tone, split, r["example_id"]))
    return _frame(rows, "en", "en_convabuse")


def pl_banpl(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "pl_banpl/BAN-PL_2.csv")
    text = df["Text"].astype(str).str.replace(r"\{USERNAME\}|\{URL\}", " ", regex=True).str.split().str.join(" ")
    tone = df["Class"].map({1: "abusive", 0: "neutral"})
    return _frame(list(zip(text, tone, [""] * len(df), df["id"].astype(str), strict=True)), "pl", "pl_banpl")


_RO_OFFENSE = {"OTHER": "neutral", "INSULT": "abusive", "ABUSE": "abusive"}  # PROFANITY: not aimed, skipped


def ro_offense(root: Path) -> pd.DataFrame:
    rows = []
    for name in ("train", "test"):
        df = pd.read_csv(root / f"ro_offense/{name}.csv")
        for i, t, lab in zip(df["id"], df["text"], df["label"], strict=True):
            if lab in _RO_OFFENSE:
                rows.append((t, _RO_OFFENSE[lab], name, str(i)))
    return _frame(rows, "ro", "ro_offense")


def ro_fb_offense(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "ro_fb_offense/train.csv")
    rows = [(t, _RO_OFFENSE[lab], "", t) for t, lab in zip(df["text"], df["label"], strict=True) if lab in _RO_OFFENSE]
    return _frame(rows, "ro", "ro_fb_offense")


def ro_news_offense(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "ro_news_offense/comments.csv")
    rows = [
        (t, "neutral" if int(lab) == 0 else "abusive", "", f"content{cid}")  # split by article: no thread leakage
        for t, lab, cid in zip(df["comment_text"], df["LABEL"], df["content_id"], strict=True)
    ]
    return _frame(rows, "ro", "ro_news_offense")


def ru_vk_distorted_toxicity(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "ru_vk_distorted_toxicity/russian_distorted_toxicity.tsv", sep="\t", quoting=csv.QUOTE_NONE)
    text = df["comments"].astype(str).str.replace(r"\[id\d+\|[^\]]*\]", "", regex=True)
    text = text.str.replace(r"ДАННОЕ СООБЩЕНИЕ \(МАТЕРИАЛ\).*", "", regex=True)
    tone = df["toxicity"].map({1: "abusive", 0: "neutral"})
    rows = list(zip(text, tone, [""] * len(df), df["comment_id"].astype(str), strict=True))
    return _frame(rows, "ru", "ru_vk_distorted_toxicity")


def mlma_fr(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "mlma_hate_fr_en/fr_dataset.csv")
    rows = []
    for hid, t, s in zip(df["HITId"], df["tweet"], df["sentiment"], strict=True):
        parts = set(str(s).split("_"))
        if parts == {"normal"}:
            rows.append((t, "neutral", "", str(hid)))
        elif parts & {"abusive", "offensive", "hateful", "disrespectful"}:
            rows.append((t, "abusive", "", str(hid)))
    return _frame(rows, "fr", "mlma_hate_fr_en")


_GOEMO_FRUSTRATED = {2, 3, 9, 10}  # anger, annoyance, disappointment, disapproval
_GOEMO_CALM = {27, 15}  # neutral, gratitude


def _goemo_tone(ids: set[int]) -> str | None:
    if ids and ids <= _GOEMO_FRUSTRATED | {11}:  # disgust may accompany anger
        return "frustrated"
    if ids and ids <= _GOEMO_CALM:
        return "neutral"
    return None


def goemotions(root: Path) -> pd.DataFrame:
    rows = []
    for name, split in (("train", "train"), ("dev", "train"), ("test", "test")):
        with open(root / f"goemotions/original/{name}.tsv", encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    tone = _goemo_tone({int(x) for x in parts[1].split(",")})
                    if tone:
                        rows.append((parts[0].replace("[NAME]", "Alex"), tone, split, parts[2]))
    return _frame(rows, "en", "goemotions")


def ru_goemotions(root: Path) -> pd.DataFrame:
    rows = []
    for name, split in (("validation", "train"), ("test", "test")):
        df = pd.read_csv(root / f"ru_goemotions/dataset/ru-go-emotions-simplified-{name}.csv")
        for t, labels, i in zip(df["ru_text"], df["labels"], df["id"], strict=True):
            tone = _goemo_tone({int(x) for x in re.findall(r"\d+", str(labels))})
            if tone:
                rows.append((str(t).replace("[ИМЯ]", "Саша").replace("[NAME]", "Саша"), tone, split, str(i)))
    return _frame(rows, "ru", "ru_goemotions")


def cedr_ru(root: Path) -> pd.DataFrame:
    rows = []
    for name in ("train", "test"):
        df = pd.read_csv(root / f"cedr_ru/cedr-main-{name}.csv")
        for k, (t, labels) in enumerate(zip(df["text"], df["labels"], strict=True)):
            ids = {int(x) for x in re.findall(r"\d+", str(labels))}
            tone = "frustrated" if ids == {4} else "neutral" if not ids or ids == {0} else None
            if tone:
                rows.append((t, tone, name, f"{name}{k}"))
    return _frame(rows, "ru", "cedr_ru")


def xed(root: Path) -> pd.DataFrame:
    """Subtitle lines: anger-only → frustrated, joy/trust-only → neutral (projections are noisy)."""
    frames = []
    for lang in ("fr", "pl", "ro", "ru"):
        rows = []
        with open(root / f"xed/Projections/{lang}-projections.tsv", encoding="utf-8") as fh:
            for k, line in enumerate(fh):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2 or not re.fullmatch(r"[\d, ]+", parts[1]):
                    continue
                ids = {int(x) for x in re.findall(r"\d+", parts[1])}
                tone = "frustrated" if ids == {1} else "neutral" if ids and ids <= {5, 8} else None
                if tone and len(parts[0]) > 12:
                    rows.append((parts[0], tone, "", f"{lang}{k}"))
        frames.append(_frame(rows, lang, "xed"))
    return pd.concat(frames, ignore_index=True)


def red_ro(root: Path) -> pd.DataFrame:
    rows = []
    for name, split in (("train", "train"), ("val", "train"), ("test", "test")):
        df = pd.read_csv(root / f"red_ro/REDv1/{name}.csv")
        for k, (t, emo) in enumerate(zip(df["Tweet"], df["Emotion"], strict=True)):
            tone = {"Furie": "frustrated", "Neutru": "neutral", "Bucurie": "neutral"}.get(emo)
            if tone:
                rows.append((t, tone, split, f"{name}{k}"))
    return _frame(rows, "ro", "red_ro")


def polemo2_medicine_pl(root: Path) -> pd.DataFrame:
    rows = []
    pattern = re.compile(r"^\"?(.*?)\s*__label__(z_\w+?)\"?\s*$")
    with open(root / "polemo2_medicine_pl/sentiment-medical-pl-utf.csv", encoding="utf-8") as fh:
        for line in fh:
            m = pattern.match(line.strip())
            if m:
                tone = {"z_minus_m": "frustrated", "z_zero": "neutral", "z_plus_m": "neutral"}.get(m.group(2))
                if tone:
                    text = re.sub(r" ([,.?!:;])", r"\1", m.group(1))
                    rows.append((text, tone, "", m.group(1)))
    return _frame(rows, "pl", "polemo2_medicine_pl")


def rsics_en(root: Path) -> pd.DataFrame:
    rows = []
    with open(root / "rsics_en/tagged_selections_by_sentence.csv", encoding="utf-8") as fh:
        for r in csv.reader(fh):
            if len(r) >= 14:
                text = r[4].replace("[", "").replace("]", "")
                tone = "frustrated" if r[10] == "1" or r[13] == "1" else "neutral"
                rows.append((text, tone, "", f"{r[0]}-{r[2]}"))
    return _frame(rows, "en", "rsics_en")


def banking77_en(root: Path) -> pd.DataFrame:
    rows = []
    for name in ("train", "test"):
        df = pd.read_csv(root / f"banking77_en/{name}.csv")
        rows += [(t, "neutral", name, t) for t in df["text"]]
    return _frame(rows, "en", "banking77_en")


READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "en_davidson": en_davidson,
    "en_convabuse": en_convabuse,
    "pl_banpl": pl_banpl,
    "ro_offense": ro_offense,
    "ro_fb_offense": ro_fb_offense,
    "ro_news_offense": ro_news_offense,
    "ru_vk_distorted_toxicity": ru_vk_distorted_toxicity,
    "mlma_hate_fr_en": mlma_fr,
    "goemotions": goemotions,
    "ru_goemotions": ru_goemotions,
    "cedr_ru": cedr_ru,
    "xed": xed,
    "red_ro": red_ro,
    "polemo2_medicine_pl": polemo2_medicine_pl,
    "rsics_en": rsics_en,
    "banking77_en": banking77_en,
}


def load_public(root: Path, sources: list[str] | None = None) -> pd.DataFrame:
    """All (or the named) public corpora as one tone-labelled frame."""
    frames = [READERS[name](root) for name in (sources or list(READERS))]
    df = pd.concat(frames, ignore_index=True)
    return df.drop_duplicates(subset=["text", "lang"]).reset_index(drop=True)


def file_hashes(root: Path, sources: list[str]) -> dict[str, str]:
    """SHA-256 of every data file a training run read, for the model card."""
    out = {}
    for name in sources:
        for p in sorted((root / name).rglob("*")):
            if p.is_file() and p.suffix in {".csv", ".tsv", ".txt", ".json"} and "README" not in p.name:
                out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def describe(df: pd.DataFrame) -> str:
    return json.dumps(df.groupby(["source", "split", "tone"]).size().unstack(fill_value=0).to_dict())
