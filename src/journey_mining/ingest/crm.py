"""Identity-only sources: a CRM table linking user id, email and phone."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import TABULAR, Adapter

CRM = Adapter(
    SourceKind.CRM,
    TABULAR,
    target="identities",
    optional=("user_id", "email", "phone"),
    any_identifier=True,
)
