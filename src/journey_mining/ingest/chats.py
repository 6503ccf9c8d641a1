"""Chat sources: Intercom conversation exports and flat chat CSVs."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import IDENTIFIER_FIELDS, TABULAR, Adapter

INTERCOM = Adapter(SourceKind.INTERCOM, frozenset({"jsonl"}))
"""Intercom conversation objects (API 2.x, NDJSON); staged by ``stg_intercom.sql``."""

CHAT_CSV = Adapter(
    SourceKind.CHAT_CSV,
    TABULAR,
    required=("conversation_id", "created_at"),
    optional=(
        *IDENTIFIER_FIELDS,
        "first_reply_at",
        "first_reply_seconds",
        "closed_at",
        "updated_at",
        "state",
        "rating",
        "rated_at",
        "topic",
        "agent",
        "page",
    ),
    any_identifier=True,
)
"""A flat chat export (CSV or Parquet) with a column mapping; staged by ``stg_chat_csv.sql``."""
