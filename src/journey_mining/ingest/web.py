"""Web analytics sources: the GA4 BigQuery export and generic event logs."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import IDENTIFIER_FIELDS, JSON_RECORDS, TABULAR, Adapter

GA4 = Adapter(SourceKind.GA4, JSON_RECORDS)
"""GA4 export rows (NDJSON, optionally gzip, or Parquet); staged by ``stg_ga4.sql``."""

EVENTS = Adapter(
    SourceKind.EVENTS,
    TABULAR,
    required=("ts", "event_name"),
    optional=(
        *IDENTIFIER_FIELDS,
        "channel",
        "session_id",
        "event_id",
        "page",
        "device",
        "wait_seconds",
        "handle_seconds",
        "outcome",
        "satisfaction",
        "topic",
        "revenue",
    ),
    any_identifier=True,
    time_fields=("ts",),
)
"""A generic event log (CSV or Parquet) with a column mapping; staged by ``stg_events.sql``."""
