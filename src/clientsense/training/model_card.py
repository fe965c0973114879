"""Render ``models/MODEL_CARD.md`` from the training metadata and the evaluation."""

from __future__ import annotations

from typing import Any

SOURCES: dict[str, tuple[str, str, str, str]] = {
    # name: (licence, citation, mapping to our tone labels, language)
    "en_davidson": ("MIT", "Davidson et al. (2017), ICWSM", "hate+offensive → abusive; neither → neutral", "en"),
    "en_convabuse": (
        "CC BY 4.0",
        "Cercas Curry et al. (2021), EMNLP",
        "annotator majority abusive → abusive; else neutral (valid split = test)",
        "en",
    ),
    "pl_banpl": ("CC BY 4.0", "Kołos et al. (2023), arXiv:2308.10592", "harmful → abusive; neutral → neutral", "pl"),
    "ro_offense": (
        "Apache-2.0",
        "readerbench/ro-offense (Paraschiv et al.)",
        "INSULT/ABUSE → abusive; OTHER → neutral; PROFANITY unused",
        "ro",
    ),
    "ro_fb_offense": ("Apache-2.0", "Busuioc et al. (2022), SYNASC", "as ro_offense", "ro"),
    "ro_news_offense": (
        "Apache-2.0",
        "Cojocaru et al. (2022), RoCHI",
        "any offence → abusive; else neutral; split by article",
        "ro",
    ),
    "ru_vk_distorted_toxicity": ("MIT", "Gorbunova (2022), HSE thesis", "toxic → abusive; else neutral", "ru"),
    "mlma_hate_fr_en": (
        "MIT",
        "Ousidhoum et al. (2019), EMNLP",
        "fr only: abusive/offensive/hateful/disrespectful → abusive; normal → neutral",
        "fr",
    ),
    "goemotions": (
        "Apache-2.0",
        "Demszky et al. (2020), ACL",
        "anger/annoyance/disappointment/disapproval → frustrated; neutral/gratitude → neutral",
        "en",
    ),
    "ru_goemotions": (
        "MIT",
        "GoEmotions, machine-translated (searayeah/ru-goemotions)",
        "as goemotions (validation = train, test = test)",
        "ru",
    ),
    "cedr_ru": (
        "Apache-2.0",
        "Sboev et al. (2021), Procedia CS",
        "anger only → frustrated; no emotion/joy → neutral",
        "ru",
    ),
    "xed": (
        "CC BY 4.0",
        "Öhman et al. (2020), COLING",
        "projections fr/pl/ro/ru: anger only → frustrated; joy/trust only → neutral",
        "fr, pl, ro, ru",
    ),
    "red_ro": ("MIT", "Ciobotaru & Dinu (2021), RANLP", "REDv1: Furie → frustrated; Neutru/Bucurie → neutral", "ro"),
    "polemo2_medicine_pl": (
        "BSD-3 / CC BY-SA 4.0",
        "Kocoń et al. (2019), CoNLL",
        "negative → frustrated; neutral/positive → neutral",
        "pl",
    ),
    "rsics_en": (
        "ODbL (+ citation condition)",
        "Beaver et al. (2017), arXiv:1708.05449",
        "Rant or ExpressEmotion → frustrated; else neutral",
        "en",
    ),
    "banking77_en": ("CC BY 4.0", "Casanueva et al. (2020)", "all → neutral", "en"),
}


def render_model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    from ..config import DEFAULT_CONFIG, HARM_THREAT_ABUSIVE_P
    from .report import metrics_markdown, public_markdown

    abusive_min = DEFAULT_CONFIG.abusive_min_proba
    tone_rule = (
        "The label is the likeliest tone (`Config.abusive_min_proba` can lower the bar for `abusive`:"
        " on five batches of unseen writers a bar of 0.3 moved abusive precision / recall from"
        " 0.86 / 0.78 to 0.81 / 0.84 and civil → abusive from 2.1 % to 3.1 %)."
        if abusive_min is None
        else f"The label is `abusive` once that probability reaches {abusive_min} (`Config.abusive_min_proba`),"
        " else the likeliest tone."
    )
    rows = meta.get("tone_training_rows", {})
    table = [
        "| source | lang | licence | citation | label mapping | rows used (abusive/frustrated/neutral) |",
        "|---|---|---|---|---|---|",
    ]
    for name, (licence, cite, mapping, lang) in SOURCES.items():
        r = rows.get(name, {})
        if r:
            counts = "/".join(str(int(r.get(t, 0))) for t in ("abusive", "frustrated", "neutral"))
            table.append(f"| {name} | {lang} | {licence} | {cite} | {mapping} | {counts} |")
    own = rows.get("authored", {})
    table.append(
        "| authored (data/corpus) | en, ru, fr, ro, pl | project's own | data/README.md | hand-labelled per docs/labels.md "
        f"| {'/'.join(str(int(own.get(t, 0))) for t in ('abusive', 'frustrated', 'neutral'))} |"
    )
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("library_versions", {}).items())
    refit = "dev" in meta.get("fitted_on_splits", ["train"])
    refit_note = (
        "- **Final refit.** The temperatures and signal thresholds are chosen on the dev split with models\n"
        "  fitted on the train split; then every model is fitted again on train + dev with the same settings,\n"
        "  temperatures and thresholds, and those are the shipped models. Wherever this card says a model is\n"
        "  trained on the authored train split, the shipped one saw train + dev.\n"
        if refit
        else ""
    )
    dev_note = (
        "Dev split, measured on the models fitted on train only (before the final refit that added dev to\n"
        "the training data); it chose the temperatures and signal thresholds, so it is shown for reference only:"
        if refit
        else "Dev split (used for calibration and the signal thresholds; shown for reference only):"
    )
    return f"""# clientsense model card — {meta.get("version")}

## Intended use
Triage of inbound client messages (email, ticket, chat) written in English, Russian, French,
Romanian or Polish: tone (abusive / frustrated / neutral), client type (client with a problem /
problem client) and a recommended playbook step for the person answering, with the reason and the
text spans behind it. A decision aid for support staff, who remain responsible for the reply.

## Not for
- Decisions about people without a human in the loop (banning, refusing service, HR or legal action).
- Moderation of public social-media content, hate-speech detection, or any language other than the five.
- Single-message judgements of a client's character: `end_relationship` is never recommended from one message.

## Models
- **Tone**: hashed character 2–5-grams of the case- and diacritic-folded text + spaCy-tokenised
  word 1–2-grams + style and language features → class-balanced logistic loss by SGD on public +
  authored rows (the mean weights of {meta.get("config", {}).get("tone_seeds", 1)} SGD seeds); a small logistic "stack" then combines its
  out-of-fold log-odds (averaged over {meta.get("config", {}).get("tone_oof_repeats", 1)} fold splits) with the 0/1 signal flags, trained on
  the authored rows; one softmax temperature per language fitted on the authored dev split
  (calibration keeps the ranking). {tone_rule} Threats of physical harm found by the per-language
  patterns of `harm_threats.toml` set the abusive probability to {HARM_THREAT_ABUSIVE_P} (their smoothed precision on
  train/dev) before the client-type and step models read it.
- **Client type**: the same stacking on the authored train split only — text log-odds (out of
  fold) + tone probabilities + signal flags — temperature-calibrated per language the same way.
- **Playbook step**: the same stacking over the client-type inputs plus the problem-client
  probability, trained on the authored step labels. It decides every rule of `rules.toml` marked
  `defer_to_model`; the two safety rules (abusive → `pause_conversation`; legal threat or manager
  request → `escalate_to_supervisor`) always apply first. `end_relationship` comes only from a
  client's history (`analyze_thread`), never from one message, and `pause_conversation` is never
  the step of a message whose tone is not abusive (the model may list it as an alternative).
  Under the five rules for a specific situation (business at fault, refund, status question,
  hardship, thanks) the model's catch-all `listen_and_restate` does not replace the rule's step
  (`rule_wins_over`); it becomes the first alternative.
- **Signals**: the per-language rule patterns, plus a learned detector (`signals.npz`): one
  class-balanced logistic regression per signal over hashed character 2–5-grams and word 1–2-grams
  of each clause, trained on the authored train split (a clause is positive when it overlaps a
  gold span). It adds a signal the patterns missed when its best clause scores above a per-signal
  threshold: the one chosen on the dev split for the F1 of patterns ∪ detector (signals it does not
  help on dev get no threshold), times 0.8, because the patterns were written reading dev (the
  factor was chosen on writers the patterns had never read); the clause is the span. It also
  vetoes a pattern hit whose clauses it scores below {meta.get("config", {}).get("signal_veto", 0.0)} for that signal (chosen on
  the fourteenth writers before they joined; the patterns misfire more on new writers). The
  classifiers above use the raw pattern flags only.
- **Language**: see `models/langid/` and the README's language-identification table.
{refit_note}- Seed {meta.get("seed")}; {versions}. Rebuild with `make train` (reproducible; data hashes in `training.json`).

## Training data
Only data whose licence allows redistribution and commercial use, plus the project's own corpus.

{chr(10).join(table)}

The authored corpus' rows ({" + ".join(meta.get("fitted_on_splits", ["train"]))} splits) weigh {meta.get("config", {}).get("authored_weight")}× a public row.
Public corpora are capped at {meta.get("config", {}).get("cap_per_source_class")} rows per source × class.

## In-domain results (authored client messages, held-out test split)
{metrics_markdown(metrics["in_domain_test"])}

{dev_note}

{metrics_markdown(metrics["in_domain_dev"])}

## Public-corpus results (tone, each corpus' test split, ≤ 1,500 rows each)
These corpora are social-media, subtitle and review text, not client messages; their label
schemes only approximate ours (e.g. Davidson's "offensive" tweets are not abuse of staff).

{public_markdown(metrics["public_test"])}

## Limits
- The authored corpus is written by the project, not sampled from real inboxes: real client mail
  is longer, messier and more often mixed-language. Expect lower scores on real data.
- The test split shares its writers with the training data. Eight batches of 348–420 messages by
  writers the model had never seen were scored before they joined the corpus
  (`docs/unseen_writers.md`). The seventh writers' boundary-heavy batch (model 0.1.0+f6812074):
  tone macro-F1 0.82, abusive precision 0.77 with recall 0.87, civil → abusive 5 %, client type
  0.88, step 0.61 / 0.82, signals 0.77, tone ECE 0.06. The eighth writers' batch, half of it calm
  reports of a failure or quiet frustration (model 0.1.0+eccee029): tone 0.84 (pl and ro 0.76),
  civil → abusive 3 %, client type 0.87 (problem-client precision 0.73), step 0.62 / 0.78 before
  `rule_wins_over` and 0.66 / 0.80 after it (on its train and dev rows), signals 0.75, tone ECE
  0.02. The ninth writers' batch, calm reports and signals in indirect wording (model
  0.1.0+3e56e2fa): tone 0.83 (fr 0.80, ro 0.82, pl 0.83), abusive precision and recall 0.79,
  civil → abusive 4 %, client type 0.90 (problem-client precision 0.74), step 0.65 / 0.82,
  signals 0.76 (0.78 with the lowered detector thresholds), tone ECE 0.03. The tenth writers'
  batch, abuse as indirect contempt (model 0.1.0+bc9248aa, argmax tone): tone 0.80 (fr 0.67),
  abusive precision 0.85 with recall 0.63, civil → abusive 2 %, client type 0.90, step 0.63 /
  0.81, signals 0.76. The eleventh writers' batch (model 0.1.0+e4893665, trained with the tenth
  writers, not shipped): tone 0.79 (en and pl 0.66), abusive precision 0.68 with recall 0.63,
  civil → abusive 5 % (swearing at a thing; three insult patterns were narrowed after it), client
  type 0.89, step 0.60 / 0.83, signals 0.76. The tenth writers' data helped on it: with the
  narrowed patterns, the model before them scores tone 0.77, abusive recall 0.52 and step 0.57 /
  0.81 there, the model with them 0.81, 0.63 and 0.61 / 0.84. The twelfth writers' batch (model
  0.1.0+df7fc7ff, trained with the tenth and eleventh): tone 0.79 (fr 0.70, pl 0.71), abusive
  precision 0.69 with recall 0.64 (contempt without insult words missed), civil → abusive 5 %,
  client type 0.88, step 0.67 / 0.82, signals 0.76, tone ECE 0.03. The thirteenth writers' batch
  (model 0.1.0+2e064246, trained with the twelfth): tone 0.81 (en and ru 0.74), abusive precision
  0.81 with recall 0.65 (four threats of harm and five remarks on age, gender or competence
  missed), civil → abusive 2 %, client type 0.88, step 0.62 / 0.82, signals 0.77, tone ECE 0.03;
  the threat-of-harm patterns written after it raise tone to 0.84 and abusive recall to 0.81 there
  (optimistic: four of its messages were read to write them). The fourteenth writers' batch
  (model 0.1.0+1976d2d1, trained with the thirteenth): tone 0.87 (pl 0.81, ru 0.84), abusive
  precision and recall 0.89, civil → abusive 2 %, client type 0.87 (problem clients over-called:
  precision 0.70), step 0.66 / 0.84, signals 0.76, tone ECE 0.02; after it the client-type
  model dropped its class weighting and the signal detector started vetoing pattern hits.
  Expect figures between
  those and the test split's on new wording; the step and the signals are the least portable
  judgements.
- Sarcasm, irony and politely worded unreasonable demands are the hardest cases for tone and client type.
- Code-switching: one language is detected per message; the advice follows it.
- Public abusive-language corpora carry social-media biases (dialect, identity terms) into the tone model.
- Probabilities are calibrated on the authored dev split; on other domains recalibrate before using thresholds.
- Signals: the rule patterns were written while reading the train and dev splits, so their dev
  scores overstate them; the test split shows what to expect on new wording (see the tables above).
  The gold signal labels were relabelled by written conventions (`docs/signal_conventions.md`),
  one writer per language; some lines are still drawn differently across languages (how near a
  deadline is `urgency`, whether a letter addressed to a director is a `manager_request`).
- Harsh words about a service ("useless", "une honte", "позор") said without attacking a person
  are frustrated, not abusive. The corpus has boundary sets for this, but civil complaints worded
  harshly are still the main source of false "abusive" results (see civil → abusive above).
- Russian typed in Latin letters is recognised from frequent Russian words; very short or mixed
  transliterated messages may still be given a neighbouring Latin-script language (cs, sk, pl).
"""
