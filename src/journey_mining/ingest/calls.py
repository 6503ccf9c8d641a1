"""Call-center sources: Amazon Connect contact trace records and flat call-detail CSVs."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import IDENTIFIER_FIELDS, TABULAR, Adapter

CONNECT = Adapter(SourceKind.CONNECT, frozenset({"jsonl"}))

CALLS_CSV = Adapter(
    SourceKind.CALLS_CSV,
    TABULAR,
    required=("call_id", "start_time"),
    optional=(*IDENTIFIER_FIELDS, "queue_seconds", "answered_at", "end_time", "outcome", "topic"),
    any_identifier=True,
)
