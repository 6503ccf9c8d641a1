"""Call-center sources: Amazon Connect contact trace records and flat call-detail CSVs."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import IDENTIFIER_FIELDS, TABULAR, Adapter

CONNECT = Adapter(SourceKind.CONNECT, frozenset({"jsonl"}))
"""Amazon Connect contact records (NDJSON); staged by ``stg_connect.sql``."""

CALLS_CSV = Adapter(
    SourceKind.CALLS_CSV,
    TABULAR,
    required=("call_id", "start_time"),
    optional=(
        *IDENTIFIER_FIELDS,
        "queued_at",  # when the caller entered the queue
        "queue_seconds",  # time in queue (answered or abandoned)
        "answered_at",  # when an agent picked up
        "talk_seconds",  # agent talk time (Twilio: duration)
        "hold_seconds",
        "end_time",
        "updated_at",  # the record's last update: a newer copy replaces an older one
        "outcome",  # resolved / order_placed / ...
        "disposition",  # the system's own status or wrap-up code (Twilio status)
        "direction",  # inbound / outbound-*
        "topic",
        "session_id",  # call chain (Twilio parent_call_sid)
        "agent",
        "revenue",  # order value of an order placed on the call
    ),
    any_identifier=True,
)
"""A flat call-detail export (CSV or Parquet) with a column mapping; staged by ``stg_calls_csv.sql``."""
