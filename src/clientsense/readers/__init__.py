"""Stage 0 — readers: files of messages → DataFrames or record streams (one row per message, nothing lost)."""

from .export import ExportOptions, iter_raw, parse_raw, read_export, read_export_frame, records_frame
from .mime import StaffFilter
from .records import RECORD_COLUMNS, EmailRecord
from .sniff import sniff
from .tables import read_messages

__all__ = [
    "RECORD_COLUMNS",
    "EmailRecord",
    "ExportOptions",
    "StaffFilter",
    "iter_raw",
    "parse_raw",
    "read_export",
    "read_export_frame",
    "read_messages",
    "records_frame",
    "sniff",
]
