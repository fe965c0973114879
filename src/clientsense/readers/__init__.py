"""Stage 0 — readers: files of messages → DataFrames (one row per message, nothing lost)."""

from .tables import read_messages

__all__ = ["read_messages"]
