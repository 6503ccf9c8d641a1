"""Chat sources: Intercom conversation exports and flat chat CSVs."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import IDENTIFIER_FIELDS, TABULAR, Adapter

INTERCOM = Adapter(SourceKind.INTERCOM, frozenset({"jsonl"}))

CHAT_CSV = Adapter(
    SourceKind.CHAT_CSV,
    TABULAR,
    required=("conversation_id", "created_at"),
    optional=(*IDENTIFIER_FIELDS, "first_reply_at", "closed_at", "state", "rating", "topic"),
    any_identifier=True,
)
