"""Which adapter reads which source kind."""

from __future__ import annotations

from journey_mining.config import SourceKind
from journey_mining.ingest.adapters import Adapter
from journey_mining.ingest.calls import CALLS_CSV, CONNECT
from journey_mining.ingest.chats import CHAT_CSV, INTERCOM
from journey_mining.ingest.crm import CRM
from journey_mining.ingest.files import SourceFileError
from journey_mining.ingest.web import EVENTS, GA4

ADAPTERS: dict[SourceKind, Adapter] = {
    adapter.kind: adapter for adapter in (GA4, EVENTS, INTERCOM, CHAT_CSV, CONNECT, CALLS_CSV, CRM)
}


def adapter_for(kind: SourceKind) -> Adapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise SourceFileError(f"no adapter for source kind {kind.value!r}") from None
