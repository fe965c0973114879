"""The conversation-history stage: thread patterns, escalation, localisation and per-sender rollups."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import clientsense
from clientsense.history import (
    END,
    PERSISTENT_DEMANDS,
    REPEATED_ABUSE,
    ClientRollup,
    HistoryConfig,
    ThreadAnalysis,
    analyze_thread,
    rollup,
)
from clientsense.playbook import load_playbook
from clientsense.results import Analysis, Signal, Span, Step

PLAYBOOK = load_playbook()
STEP_OF = {"abusive": "pause_conversation", "frustrated": "listen_and_restate", "neutral": "follow_up"}


def msg(
    tone: str = "neutral",
    client_type: str = "client_with_problem",
    signals: tuple[str, ...] = (),
    lang: str = "en",
    text: str = "some message",
) -> Analysis:
    """A hand-built Analysis with exact labels; each signal's span is the whole text."""
    sigs = tuple(Signal(s, Span(0, len(text), text)) for s in signals)
    step_id = "set_boundaries" if client_type == "problem_client" and tone != "abusive" else STEP_OF[tone]
    step = Step(step_id, f"title {step_id}", "advice", "why", lang, ("stay_professional",), tuple(s.span for s in sigs))
    p = {t: 0.8 if t == tone else 0.1 for t in ("abusive", "frustrated", "neutral")}
    q = {c: 0.9 if c == client_type else 0.1 for c in ("client_with_problem", "problem_client")}
    return Analysis(text, lang, 0.99, client_type, q, tone, p, step, sigs)


def abusive(lang: str = "en", text: str = "you idiots") -> Analysis:
    return msg("abusive", "problem_client", ("insult",), lang, text)


def demand(tone: str = "neutral") -> Analysis:
    return msg(tone, "problem_client", ("demand_outside_terms", "payment_refusal"), text="do it for free")


def thread(*messages: Analysis, **cfg: object) -> ThreadAnalysis:
    return analyze_thread(messages, PLAYBOOK, HistoryConfig(**cfg))  # type: ignore[arg-type]


# --- analyze_thread -------------------------------------------------------------------------


def test_empty_thread_raises_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one analysed message; the thread is empty"):
        analyze_thread([], PLAYBOOK)


@pytest.mark.parametrize(
    "cfg",
    [{}, {"min_messages": 2, "abusive_count": 2, "problem_share": 0.01, "demand_count": 1, "require_current": False}],
)
def test_single_message_never_ends_relationship(cfg: dict[str, object]) -> None:
    worst = msg("abusive", "problem_client", ("insult", "profanity", "demand_outside_terms", "payment_refusal"))
    t = thread(worst, **cfg)
    assert t.step is worst.step and t.pattern is None and not t.escalating
    assert "only 1 message(s)" in t.reason


@pytest.mark.parametrize("bad", [{"min_messages": 1}, {"abusive_count": 1}, {"window": 2}, {"problem_share": 0.0}])
def test_config_rejects_single_message_patterns_and_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HistoryConfig(**bad)  # type: ignore[arg-type]


def test_repeated_abuse_ends_relationship_with_counts_alternatives_and_evidence() -> None:
    latest = abusive(text="incompetent morons")
    t = thread(msg("neutral"), abusive(), msg("frustrated"), msg("neutral"), latest)
    assert t.pattern == REPEATED_ABUSE and t.step.id == END
    assert t.step.reason.startswith("2 abusive messages among the last 5 from this client → end_relationship")
    assert t.reason == t.step.reason
    assert t.step.alternatives[0] == "pause_conversation" and END not in t.step.alternatives
    assert [s.text for s in t.step.evidence] == ["incompetent morons"]
    en = PLAYBOOK.text(END, "en")[1]
    assert (t.step.title, t.step.advice, t.step.example) == (en["title"], en["advice"], en["examples"][0])
    assert t.step.lang == "en" and t.step.aftercare
    assert t.tone_counts == {"abusive": 2, "frustrated": 1, "neutral": 2} and t.problem_share == pytest.approx(0.4)
    assert t.considered == 5 and len(t.messages) == 5
    json.dumps(t.to_dict(), ensure_ascii=False)


def test_min_messages_threshold() -> None:
    assert thread(abusive(), abusive()).pattern is None  # 2 < 3
    assert thread(msg(), abusive(), abusive()).pattern == REPEATED_ABUSE  # 3 == 3
    assert thread(abusive(), abusive(), min_messages=2).pattern == REPEATED_ABUSE
    assert thread(msg(), abusive(), abusive(), min_messages=4).pattern is None


def test_abusive_count_threshold() -> None:
    assert thread(msg(), msg(), abusive()).step.id == "pause_conversation"  # 1 < 2
    assert thread(msg(), abusive(), abusive()).step.id == END  # 2 == 2
    assert thread(msg(), abusive(), abusive(), abusive_count=3).pattern is None
    assert thread(abusive(), abusive(), abusive(), abusive_count=3).pattern == REPEATED_ABUSE


def test_window_limits_what_counts() -> None:
    old = [abusive(), *[msg()] * 9, abusive()]  # 11 messages: the first abuse is outside the default window
    assert thread(*old).pattern is None
    assert thread(*old, window=11).pattern == REPEATED_ABUSE
    assert thread(*old[1:]).pattern is None  # 10 messages, 1 abusive
    assert thread(*old[2:], window=9).pattern is None
    assert thread(abusive(), *old[2:], window=10).considered == 10


def test_abusive_once_then_calm_is_not_ended() -> None:
    t = thread(abusive(), msg(), msg("frustrated"), msg())
    assert t.pattern is None and t.step.id == "follow_up"
    # twice abusive but calm now: kept by default, judged on history alone when asked
    calmed = thread(abusive(), abusive(), msg())
    assert calmed.pattern is None and "latest message is calm" in calmed.reason
    assert thread(abusive(), abusive(), msg(), require_current=False).pattern == REPEATED_ABUSE


def test_persistent_demands_end_relationship() -> None:
    t = thread(demand(), demand("frustrated"), demand())
    assert t.pattern == PERSISTENT_DEMANDS and t.step.id == END
    assert t.step.alternatives[0] == "set_boundaries"
    assert "3 of the last 3 messages from this client are from a problem client (100% ≥ 60%)" in t.reason
    assert "3 with unworkable demands" in t.reason
    assert {s.text for s in t.step.evidence} == {"do it for free"}


def test_problem_share_and_demand_count_thresholds() -> None:
    five = (msg(), demand(), msg(), demand(), msg("neutral", "problem_client"))  # 3/5 = 0.6, 2 demands
    assert thread(*five).pattern == PERSISTENT_DEMANDS
    assert thread(*five, problem_share=0.61).pattern is None
    assert thread(*five, demand_count=3).pattern is None
    assert thread(*five[1:], problem_share=0.75).pattern == PERSISTENT_DEMANDS  # 3/4
    no_demands = [msg("neutral", "problem_client")] * 4  # problem client, but nothing unworkable asked
    assert thread(*no_demands).pattern is None
    custom = thread(*no_demands[:3], msg("neutral", "problem_client", ("know_better",)), demand_count=1,
                    demand_signals=frozenset({"know_better"}))  # fmt: skip
    assert custom.pattern == PERSISTENT_DEMANDS


def test_escalation() -> None:
    assert thread(msg(), msg("frustrated"), abusive()).escalating
    assert not thread(abusive(), msg("frustrated"), msg()).escalating
    assert not thread(msg(), msg(), msg()).escalating
    assert thread(msg(), msg(), msg("frustrated")).escalating  # fitted rise exactly 1.0
    assert not thread(msg(), msg(), msg("frustrated"), escalation_rise=1.01).escalating
    assert not thread(msg(), abusive()).escalating  # fewer than min_messages
    assert thread(msg(), abusive(), min_messages=2).escalating
    assert "tone escalating (rise +2.00)" in thread(msg(), msg("frustrated"), abusive()).reason


def test_end_relationship_is_localised() -> None:
    t = thread(abusive("ru", "идиоты"), msg(lang="ru"), abusive("ru", "придурки"))
    ru = PLAYBOOK.text(END, "ru")[1]
    assert (
        t.step.id == END and t.step.lang == "ru" and t.step.title == ru["title"] == PLAYBOOK.steps[END]["ru"]["title"]
    )
    fr = thread(abusive("fr"), abusive("fr"), abusive("fr"))
    assert fr.step.title == PLAYBOOK.steps[END]["fr"]["title"]
    other = thread(abusive("de"), abusive("de"), abusive("de"))
    assert other.step.lang == "en" and other.step.title == PLAYBOOK.steps[END]["en"]["title"]


# --- end to end with the shipped model ---------------------------------------------------------

EN_ABUSE = ["You are useless idiots, incompetent morons!", "Idiots. Again nothing works, you morons."]
RU_ABUSE = ["Вы идиоты, некомпетентные придурки!", "Опять ничего не работает, идиоты безмозглые!"]


def test_end_to_end_two_languages(analyzer) -> None:  # type: ignore[no-untyped-def]
    texts = [*EN_ABUSE, "Where is my order? Could you tell me when it ships?", EN_ABUSE[0], *RU_ABUSE, RU_ABUSE[0]]
    texts += ["Bande d'incapables, vous êtes des idiots !", "Merci beaucoup pour votre aide.", "Merci, tout est réglé."]
    a = list(analyzer.analyze_many(texts))
    assert clientsense.analyze(EN_ABUSE[0]).tone == "abusive"

    one = analyze_thread(a[:1], analyzer.playbook)
    assert one.step == a[0].step and one.step.id != END

    en = analyze_thread(a[:4], analyzer.playbook)
    assert en.pattern == REPEATED_ABUSE and en.step.id == END and en.step.lang == "en"
    assert en.step.reason.startswith("3 abusive messages among the last 4") and en.step.alternatives[0] == a[3].step.id

    ru = analyze_thread(a[4:7], analyzer.playbook)
    assert ru.step.id == END and ru.step.lang == "ru" and ru.step.title == PLAYBOOK.steps[END]["ru"]["title"]
    assert any("идиот" in s.text for s in ru.step.evidence)

    fr = analyze_thread(a[7:], analyzer.playbook)  # abusive once, then calm and thankful
    assert fr.pattern is None and fr.step == a[-1].step and not fr.escalating


# --- rollup ----------------------------------------------------------------------------------


def test_rollup_from_tuples() -> None:
    records = [
        ("ann", abusive(), "2024-01-03"),
        ("bob", abusive(), "2024-01-01"),
        ("ann", msg(), "2024-01-01"),
        ("ann", abusive(), "2024-01-05"),
        ("cat", demand(), "2024-01-02"),
        ("cat", demand(), "2024-01-04"),
        ("cat", demand(), "2024-01-06"),
    ]
    out = rollup(records).set_index("sender")
    assert list(out.columns) == [f for f in ClientRollup.__dataclass_fields__ if f != "sender"]
    assert sorted(out.index) == ["ann", "bob", "cat"]
    ann, bob, cat = out.loc["ann"], out.loc["bob"], out.loc["cat"]
    assert (ann.messages, ann.n_abusive, ann.n_neutral, ann.errors) == (3, 2, 1, 0)
    assert ann.pattern == REPEATED_ABUSE and ann.recommended_step == END and ann.escalating  # sorted by time
    assert ann["first"] == pd.Timestamp("2024-01-01") and ann["last"] == pd.Timestamp("2024-01-05")
    assert pd.isna(bob.pattern) and bob.recommended_step == "pause_conversation"  # one message never ends it
    assert cat.pattern == PERSISTENT_DEMANDS and cat.problem_share == 1.0 and cat.mean_p_abusive == pytest.approx(0.1)
    # without timestamps: input order, no time columns; ann's latest is then abusive too
    plain = rollup([(s, a) for s, a, _ in records], sender_col="client").set_index("client")
    assert "first" not in plain.columns and not plain.loc["ann"].escalating
    assert rollup(records, config=HistoryConfig(abusive_count=3)).set_index("sender").loc["ann"].pattern is pd.NA


def test_rollup_from_score_frame_counts_errors_and_loses_no_sender(analyzer) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        {
            "who": ["x", "x", "y", "x", "z", "x", "y", None],
            "at": [3, 1, 5, 2, 1, 4, 6, 7],
            "text": [EN_ABUSE[1], "Where is my order?", "Merci beaucoup.", EN_ABUSE[0], np.nan, None, 42, "Hello"],
        }
    )
    scored = clientsense.score_frame(df, analyzer=analyzer)
    out = rollup(scored, sender_col="who", time_col="at")
    assert len(out) == 4 and out["who"].isna().sum() == 1
    by = out.dropna(subset=["who"]).set_index("who")
    assert set(by.index) == {"x", "y", "z"}
    x, y, z = by.loc["x"], by.loc["y"], by.loc["z"]
    assert (
        (x.messages, x.errors, x.n_abusive) == (3, 1, 2) and x.pattern == REPEATED_ABUSE and x.recommended_step == END
    )
    assert (x["first"], x["last"]) == (1, 4) and x.escalating
    assert (y.messages, y.errors) == (1, 1) and pd.isna(y.pattern) and y.recommended_step == "follow_up"
    assert (z.messages, z.errors) == (0, 1) and z.recommended_step is pd.NA and np.isnan(z.problem_share)
    assert out["messages"].sum() + out["errors"].sum() == len(df)
    prefixed = clientsense.score_frame(df, analyzer=analyzer, prefix="cs_")
    assert rollup(prefixed, sender_col="who", time_col="at", prefix="cs_").equals(out)


def test_rollup_rejects_bad_input() -> None:
    with pytest.raises(KeyError, match="sender"):
        rollup(pd.DataFrame({"tone": ["neutral"]}))
    with pytest.raises(TypeError, match="sender, Analysis"):
        rollup([("ann", "not an analysis")])
    assert rollup([]).empty


def test_rollup_dtypes_and_missing_sender_kept() -> None:
    out = rollup([(None, abusive()), (np.nan, abusive()), ("a", msg())])
    assert len(out) == 2 and out["sender"].isna().sum() == 1  # None and NaN are one unknown sender
    assert out["messages"].dtype == np.int64 and out["escalating"].dtype == bool
    assert out["pattern"].dtype == "string" and out["problem_share"].dtype == np.float64
