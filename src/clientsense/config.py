"""All configuration in one place."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("en", "ru", "fr", "ro", "pl")
TONES: tuple[str, ...] = ("abusive", "frustrated", "neutral")
CLIENT_TYPES: tuple[str, ...] = ("client_with_problem", "problem_client")
STEPS: tuple[str, ...] = (
    "listen_and_restate",
    "apologize_and_fix",
    "offer_simple_solution",
    "set_expectations",
    "refer_to_agreement",
    "set_boundaries",
    "stay_professional",
    "pause_conversation",
    "escalate_to_supervisor",
    "go_extra_mile",
    "end_relationship",
    "follow_up",
)
SIGNALS: tuple[str, ...] = (
    "business_at_fault",
    "refund_request",
    "status_question",
    "references_agreement",
    "demand_outside_terms",
    "scope_creep",
    "payment_refusal",
    "threat_public",
    "threat_legal",
    "manager_request",
    "insult",
    "profanity",
    "repeat_contact",
    "hardship",
    "gratitude",
    "urgency",
    "disrespect_time",
    "know_better",
)
STEP_EVIDENCE: dict[str, tuple[str, ...]] = {
    "listen_and_restate": ("urgency", "repeat_contact"),
    "apologize_and_fix": ("business_at_fault",),
    "offer_simple_solution": ("refund_request", "business_at_fault"),
    "set_expectations": ("status_question", "urgency"),
    "refer_to_agreement": ("references_agreement", "payment_refusal", "scope_creep"),
    "set_boundaries": ("demand_outside_terms", "scope_creep", "disrespect_time", "payment_refusal"),
    "stay_professional": ("know_better", "disrespect_time", "threat_public"),
    "pause_conversation": ("insult", "profanity"),
    "escalate_to_supervisor": ("threat_legal", "manager_request", "threat_public"),
    "go_extra_mile": ("hardship",),
    "end_relationship": ("insult", "demand_outside_terms"),
    "follow_up": ("gratitude",),
}
"""Signals cited as evidence when the step model (not a hand rule) picks a step."""
STEP_MODEL_ALTERNATIVE_MIN_P = 0.15
"""A step model's runner-up is offered as an alternative when its probability reaches this."""
UNDETERMINED = "und"
TOKENIZER_MAX_LEXEMES = 20_000
"""A language's spaCy tokenizer is built anew once its vocabulary holds more entries than this:
spaCy keeps every new token string (order numbers, names, typos) for good, so a long stream of mail
would otherwise grow without bound (1.3 GB after 200,000 messages of novel tokens). The whole
corpus needs under 10,000 per language (at most about 12 MB each at the cap); tokens are the same
before and after a rebuild."""
MAX_RAW_CHARS = 20_000
"""No stage reads more than this many leading characters of one message (4 × the default ``max_chars``)."""
HARM_THREAT_ABUSIVE_P = 0.94
"""Probability of ``abusive`` given to a message with a threat of physical harm
(:mod:`clientsense.threats`): the patterns' precision on the authored train/dev rows (14 of 14
hits labelled abusive), Laplace-smoothed ((14 + 1) / (14 + 2))."""


@dataclass(frozen=True)
class Config:
    """Runtime settings of an :class:`~clientsense.Analyzer`."""

    max_chars: int = 5000
    """Messages are cut to this many characters (at a word boundary) before analysis."""
    mask_urls: bool = True
    mask_emails: bool = True
    languages: tuple[str, ...] | None = None
    """Restrict language detection to these ISO codes (None: all the detector knows)."""
    fallback_language: str = "en"
    """Language of the advice when the message's language is ``und`` or not in the playbook."""
    batch_size: int = 512
    chunk_size: int = 128
    """The numeric stages take at most this many messages at once (bounds their temporary arrays;
    the results are the same for any chunk or batch size)."""
    seed: int = 0
    abusive_min_proba: float | None = None
    """Call a message abusive once the calibrated probability of ``abusive`` reaches this, even when
    ``frustrated`` is likelier (None, the default: the most probable tone). Lowering the bar trades
    precision for recall on indirect contempt. On five batches of writers each scored by a model that
    had not seen them (docs/unseen_writers.md), a bar of 0.3 moved abusive precision / recall from
    0.86 / 0.78 to 0.81 / 0.84 and civil complaints called abusive from 2.1 % to 3.1 %."""

    def __post_init__(self) -> None:
        if self.abusive_min_proba is not None and not 0.0 < self.abusive_min_proba <= 1.0:
            raise ValueError(f"abusive_min_proba must be in (0, 1] or None, not {self.abusive_min_proba!r}")


DEFAULT_CONFIG = Config()

TONE_FILE = "tone.npz"
CLIENT_TYPE_FILE = "client_type.npz"
STEP_FILE = "step.npz"
"""Models are arrays plus a JSON header (:mod:`clientsense.compiled`); a directory may instead hold
the pickled estimators of earlier versions under the same names with ``.joblib`` (trusted only)."""
LEGACY_MODEL_SUFFIX = ".joblib"
TRAINING_META_FILE = "training.json"
METRICS_FILE = "metrics.json"
MODEL_CARD_FILE = "MODEL_CARD.md"

# Email exports (clientsense.readers / clientsense.emailscore)
EMAIL_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""A message bigger than this becomes an error row instead of being held in memory."""
EMAIL_CHUNK_SIZE = 1000
"""Messages scored and checkpointed together by ``clientsense score`` on an email export."""

# Display and plots (clientsense.display, clientsense.plots)
TONE_COLORS: dict[str, str] = {"abusive": "#c0392b", "frustrated": "#e67e22", "neutral": "#27ae60"}
CLIENT_TYPE_COLORS: dict[str, str] = {"client_with_problem": "#2e86c1", "problem_client": "#8e44ad"}
SIGNAL_COLOR = "#fff3a8"
"""Background of highlighted signal spans in HTML."""
