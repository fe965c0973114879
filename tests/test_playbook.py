from pathlib import Path

import pytest

from clientsense.config import LANGUAGES, SIGNALS, STEPS
from clientsense.playbook import PlaybookError, Policy, load_playbook, load_rules
from clientsense.results import Signal, Span


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy(load_playbook(), load_rules())


def sig(sid: str, text: str = "x") -> Signal:
    return Signal(sid, Span(0, len(text), text))


def test_packaged_playbook_complete() -> None:
    pb = load_playbook()
    assert set(pb.steps) == set(STEPS)
    for step in STEPS:
        for lang in LANGUAGES:
            texts = pb.steps[step][lang]
            assert texts["title"].strip() and texts["advice"].strip() and texts["examples"]
    for lang in LANGUAGES:
        assert set(pb.signal_names[lang]) == set(SIGNALS)
        assert pb.aftercare[lang]["advice"].strip()


def test_seed_citations_present() -> None:
    pb = load_playbook()
    for step in STEPS:
        assert pb.steps[step]["seeds"], step


P = {"abusive": 0.1, "frustrated": 0.3, "neutral": 0.6, "client_with_problem": 0.8, "problem_client": 0.2}


@pytest.mark.parametrize(
    ("tone", "ctype", "signals", "step"),
    [
        ("abusive", "problem_client", ["insult"], "pause_conversation"),
        ("frustrated", "client_with_problem", ["threat_legal"], "escalate_to_supervisor"),
        ("frustrated", "client_with_problem", ["manager_request"], "escalate_to_supervisor"),
        ("frustrated", "problem_client", ["threat_public"], "escalate_to_supervisor"),
        ("neutral", "problem_client", ["references_agreement"], "refer_to_agreement"),
        ("neutral", "problem_client", ["payment_refusal"], "refer_to_agreement"),
        ("neutral", "problem_client", ["scope_creep"], "set_boundaries"),
        ("neutral", "problem_client", ["demand_outside_terms"], "set_boundaries"),
        ("neutral", "problem_client", ["know_better"], "stay_professional"),
        ("frustrated", "problem_client", [], "stay_professional"),
        ("neutral", "problem_client", [], "set_boundaries"),
        ("frustrated", "client_with_problem", ["hardship"], "go_extra_mile"),
        ("frustrated", "client_with_problem", ["refund_request", "business_at_fault"], "offer_simple_solution"),
        ("frustrated", "client_with_problem", ["business_at_fault"], "apologize_and_fix"),
        ("neutral", "client_with_problem", ["status_question"], "set_expectations"),
        ("neutral", "client_with_problem", ["gratitude"], "follow_up"),
        ("neutral", "client_with_problem", ["gratitude", "refund_request"], "follow_up"),
        ("frustrated", "client_with_problem", ["threat_public", "business_at_fault"], "apologize_and_fix"),
        ("frustrated", "client_with_problem", [], "listen_and_restate"),
    ],
)
def test_every_rule_branch(policy: Policy, tone: str, ctype: str, signals: list[str], step: str) -> None:
    s = policy.recommend(tone, ctype, P, [sig(x) for x in signals], "en")
    assert s.id == step
    assert step in s.reason and s.reason
    assert s.id not in s.alternatives


def test_reason_cites_evidence_and_aftercare(policy: Policy) -> None:
    s = policy.recommend("abusive", "problem_client", P, [Signal("insult", Span(4, 10, "idioți"))], "ro")
    assert "insult 'idioți'" in s.reason and "pause_conversation" in s.reason
    assert s.evidence == (Span(4, 10, "idioți"),)
    assert s.aftercare and s.lang == "ro"


def test_localised_and_fallback(policy: Policy) -> None:
    pb = load_playbook()
    ru = policy.recommend("neutral", "client_with_problem", P, [sig("gratitude")], "ru")
    assert ru.title == pb.steps["follow_up"]["ru"]["title"] and ru.lang == "ru"
    de = policy.recommend("neutral", "client_with_problem", P, [sig("gratitude")], "de")
    assert de.lang == "en"
    forced = policy.recommend("neutral", "client_with_problem", P, [sig("gratitude")], "ru", advice_language="pl")
    assert forced.lang == "pl"


def test_min_proba_condition(tmp_path: Path) -> None:
    f = tmp_path / "r.toml"
    f.write_text(
        '[[rule]]\nid="sure_abuse"\nstep="pause_conversation"\nreason="r"\nmin_proba={abusive=0.9}\n'
        '[[rule]]\nid="d"\nstep="listen_and_restate"\nreason="d"\n'
    )
    p = Policy(load_playbook(), load_rules(f))
    assert p.recommend("abusive", "problem_client", {"abusive": 0.95}, [], "en").id == "pause_conversation"
    assert p.recommend("abusive", "problem_client", {"abusive": 0.6}, [], "en").id == "listen_and_restate"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[rule]]\nid="a"\nstep="nope"\nreason="r"\n', "unknown step 'nope'"),
        ('[[rule]]\nid="a"\nstep="follow_up"\nreason="r"\ntone=["angry"]\n', "tone must be"),
        ('[[rule]]\nid="a"\nstep="follow_up"\nreason="r"\ncolour="red"\n', "unknown key"),
        ('[[rule]]\nid="a"\nstep="follow_up"\n', "needs a 'reason'"),
        ('[[rule]]\nid="a"\nstep="follow_up"\nreason="r"\ntone=["neutral"]\n', "last rule must have no conditions"),
        ("[[rule]\n", "invalid TOML"),
        ('title = "x"\n', "no [[rule]]"),
    ],
)
def test_invalid_rule_files(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "rules.toml"
    f.write_text(content)
    with pytest.raises(PlaybookError, match=message.replace("[", r"\[")):
        load_rules(f)


def test_invalid_rule_error_names_line(tmp_path: Path) -> None:
    f = tmp_path / "rules.toml"
    f.write_text(
        '# comment\n\n[[rule]]\nid="ok"\nstep="follow_up"\nreason="r"\n\n[[rule]]\nid="bad"\nstep="zzz"\nreason="r"\n'
    )
    with pytest.raises(PlaybookError, match=r"rules.toml:8: unknown step"):
        load_rules(f)


def test_invalid_playbook(tmp_path: Path) -> None:
    f = tmp_path / "pb.toml"
    f.write_text('[meta]\nlanguages=["en"]\n[steps.follow_up.en]\ntitle="t"\nadvice="a"\n')
    with pytest.raises(PlaybookError, match="steps missing"):
        load_playbook(f)
    with pytest.raises(PlaybookError, match="no such file"):
        load_playbook(tmp_path / "missing.toml")


def test_override_playbook_roundtrip(tmp_path: Path) -> None:
    import tomllib

    from clientsense.playbook.loader import PLAYBOOK_FILE

    src = Path(__import__("clientsense.playbook", fromlist=["x"]).__file__).parent / PLAYBOOK_FILE
    doc = src.read_text(encoding="utf-8").replace(
        tomllib.loads(src.read_text(encoding="utf-8"))["steps"]["follow_up"]["en"]["title"], "Say thanks back"
    )
    f = tmp_path / "pb.toml"
    f.write_text(doc, encoding="utf-8")
    p = Policy(load_playbook(f), load_rules())
    assert p.recommend("neutral", "client_with_problem", P, [sig("gratitude")], "en").title == "Say thanks back"


def test_deferring_rule_lets_the_step_model_choose(policy: Policy) -> None:
    proba = {s: 0.0 for s in STEPS} | {"apologize_and_fix": 0.7, "offer_simple_solution": 0.2, "follow_up": 0.1}
    found = [sig("business_at_fault", "arrived broken"), sig("refund_request", "money back")]
    step = policy.recommend("frustrated", "client_with_problem", P, found, "en", step_proba=proba)
    assert step.id == "apologize_and_fix"  # the "refund" rule matched first, but it defers
    assert step.alternatives == ("offer_simple_solution",)  # runner-up ≥ 15 %; follow_up (10 %) is not
    assert [e.text for e in step.evidence] == ["arrived broken"]  # evidence follows the chosen step
    assert "rule 'refund'" in step.reason and "step model: apologize_and_fix 70%" in step.reason
    assert "the rule's step is offer_simple_solution; the step model prefers apologize_and_fix" in step.reason
    assert step.reason.endswith("]") and "business_at_fault 'arrived broken' → apologize_and_fix [" in step.reason
    # Without a step model the same rule's own step stands.
    assert policy.recommend("frustrated", "client_with_problem", P, found, "en").id == "offer_simple_solution"


def test_safety_rules_override_the_step_model(policy: Policy) -> None:
    proba = {s: 0.0 for s in STEPS} | {"follow_up": 1.0}
    abuse = policy.recommend("abusive", "problem_client", P, [sig("insult")], "en", step_proba=proba)
    legal = policy.recommend("frustrated", "client_with_problem", P, [sig("threat_legal")], "en", step_proba=proba)
    assert (abuse.id, legal.id) == ("pause_conversation", "escalate_to_supervisor")
    assert "step model" not in abuse.reason


def test_defer_to_model_must_be_boolean(tmp_path: Path) -> None:
    f = tmp_path / "rules.toml"
    f.write_text('[[rule]]\nid="d"\nstep="listen_and_restate"\nreason="d"\ndefer_to_model="yes"\n')
    with pytest.raises(PlaybookError, match="defer_to_model must be true or false"):
        load_rules(f)
    f.write_text('[[rule]]\nid="d"\nstep="listen_and_restate"\nreason="d"\ndefer_to_model=false\n')
    p = Policy(load_playbook(), load_rules(f))
    assert p.recommend("neutral", "client_with_problem", P, [], "en", step_proba={"follow_up": 1.0}).id == (
        "listen_and_restate"
    )


def test_step_model_cannot_make_a_civil_message_a_pause(policy: Policy) -> None:
    proba = {s: 0.0 for s in STEPS} | {"pause_conversation": 0.6, "stay_professional": 0.3, "listen_and_restate": 0.1}
    found = [sig("business_at_fault", "on hold for an hour")]
    civil = policy.recommend("frustrated", "problem_client", P, found, "en", step_proba=proba)
    assert civil.id == "stay_professional" and "pause_conversation" in civil.alternatives
    abusive = policy.recommend("abusive", "problem_client", P, [sig("insult")], "en", step_proba=proba)
    assert abusive.id == "pause_conversation"


def test_specific_rule_wins_over_the_default_step(policy: Policy) -> None:
    """The step model's listen_and_restate does not replace a more specific rule's step."""
    proba = {s: 0.0 for s in STEPS} | {"listen_and_restate": 0.6, "apologize_and_fix": 0.3, "follow_up": 0.1}
    found = [sig("business_at_fault", "arrived broken")]
    step = policy.recommend("neutral", "client_with_problem", P, found, "en", step_proba=proba)
    assert step.id == "apologize_and_fix"
    assert step.alternatives == ("listen_and_restate", "offer_simple_solution")  # model's choice first, no repeats
    assert [e.text for e in step.evidence] == ["arrived broken"]
    assert "first choice, listen_and_restate, is less specific" in step.reason
    assert "step model: listen_and_restate 60%" in step.reason
    # a step the rule does not win over is still the model's to pick
    other = proba | {"listen_and_restate": 0.1, "set_expectations": 0.6}
    assert policy.recommend("neutral", "client_with_problem", P, found, "en", step_proba=other).id == "set_expectations"
    # with no specific rule matching, the default rule lets the model's listen_and_restate stand
    plain = policy.recommend("neutral", "client_with_problem", P, [], "en", step_proba=proba)
    assert plain.id == "listen_and_restate" and "less specific" not in plain.reason


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('defer_to_model=true\nrule_wins_over=["nope"]\n', "rule_wins_over must be a list"),
        ('rule_wins_over=["listen_and_restate"]\n', "rule_wins_over needs defer_to_model = true"),
        ('defer_to_model=true\nrule_wins_over=["follow_up"]\n', "rule_wins_over cannot name the rule's own step"),
    ],
)
def test_invalid_rule_wins_over(tmp_path: Path, extra: str, message: str) -> None:
    f = tmp_path / "rules.toml"
    f.write_text('[[rule]]\nid="t"\ntone=["neutral"]\nstep="follow_up"\nreason="r"\n' + extra
                 + '\n[[rule]]\nid="d"\nstep="listen_and_restate"\nreason="d"\n')  # fmt: skip
    with pytest.raises(PlaybookError, match=r"rules.toml:1: " + message):
        load_rules(f)
    f.write_text('[[rule]]\nid="t"\ntone=["neutral"]\nstep="follow_up"\nreason="r"\ndefer_to_model=true\n'
                 'rule_wins_over="listen_and_restate"\n\n[[rule]]\nid="d"\nstep="listen_and_restate"\nreason="d"\n')  # fmt: skip
    assert load_rules(f)[0].rule_wins_over == ("listen_and_restate",)
