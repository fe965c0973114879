"""Stage 7 — the playbook: localised step texts, the rule table and the policy that applies it."""

from .loader import Playbook, PlaybookError, Rule, load_playbook, load_rules
from .policy import Policy

__all__ = ["Playbook", "PlaybookError", "Policy", "Rule", "load_playbook", "load_rules"]
