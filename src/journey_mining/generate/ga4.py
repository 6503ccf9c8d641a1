"""GA4 BigQuery export: one ``events_YYYYMMDD`` daily table per day, as gzip NDJSON.

The shape follows the export schema (FORMATS.md B.1) as BigQuery's JSON export writes
it: INT64 values (``event_timestamp``, ``int_value``, quantities) become JSON strings,
nested records stay nested, and rows come in no particular order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journey_mining.generate.catalog import SHOP_URL, page_title
from journey_mining.generate.exports import day_of, json_line, shuffled, write_jsonl_gz
from journey_mining.generate.model import CartLine, WebEvent, WebSession, Window

STREAM_ID = "4178303921"


def write_ga4(out_dir: Path, sessions: list[WebSession], window: Window, seed: int) -> tuple[list[Path], int]:
    """One file per window day (empty days included): the paths in date order, event count."""
    by_day: dict[str, list[str]] = {day.strftime("%Y%m%d"): [] for day in window.dates()}
    first_seen = _first_seen(sessions)
    for session in sessions:
        for event in _with_first_visit(session):
            row = event_row(session, event, first_seen)
            by_day.setdefault(row["event_date"], []).append(json_line(row))
    paths = [
        write_jsonl_gz(out_dir / "ga4" / f"events_{day}.jsonl.gz", shuffled(lines, f"{seed}:{day}"))
        for day, lines in sorted(by_day.items())
    ]
    return paths, sum(len(lines) for lines in by_day.values())


def _first_seen(sessions: list[WebSession]) -> dict[tuple[int, int], int]:
    """First-visit time per new cookie: the second half of GA4's pseudo id."""
    return {(s.customer.index, s.device_slot): s.start for s in sessions if s.first_visit}


def _with_first_visit(session: WebSession) -> list[WebEvent]:
    """GA4 logs first_visit beside session_start on a cookie's very first session."""
    if not session.first_visit:
        return session.events
    first = session.events[0]
    return [WebEvent(first.ts, "first_visit", first.path, first.user_id), *session.events]


def event_row(session: WebSession, event: WebEvent, first_seen: dict[tuple[int, int], int]) -> dict[str, Any]:
    """One export row."""
    device = session.device
    seen = first_seen.get((session.customer.index, session.device_slot), device.first_seen)
    source, medium, name = device.traffic_source
    return {
        "event_date": day_of(event.ts // 1_000_000).strftime("%Y%m%d"),
        "event_timestamp": str(event.ts),
        "event_name": event.name,
        "event_params": _params(session, event),
        "user_id": event.user_id,
        "user_pseudo_id": f"{device.cookie_random}.{seen}",
        "device": {
            "category": device.category,
            "operating_system": device.operating_system,
            "web_info": {"browser": device.browser},
        },
        "geo": {"country": session.customer.country},
        "traffic_source": {"name": name, "medium": medium, "source": source},
        "stream_id": STREAM_ID,
        "platform": "WEB",
        "ecommerce": _ecommerce(event),
        "items": [_item(line) for line in event.items],
    }


def _params(session: WebSession, event: WebEvent) -> list[dict[str, Any]]:
    params: list[tuple[str, str | int | float]] = [
        ("ga_session_id", session.start),
        ("ga_session_number", session.number),
        ("page_location", f"{SHOP_URL}{event.path}"),
        ("page_title", page_title(event.path)),
        *event.params,
    ]
    return [{"key": key, "value": _value(value)} for key, value in params]


def _value(value: str | int | float) -> dict[str, str | float | None]:
    """GA4's one-of value record; INT64 travels as a string in JSON exports."""
    return {
        "string_value": value if isinstance(value, str) else None,
        "int_value": str(value) if isinstance(value, int) else None,
        "float_value": None,
        "double_value": value if isinstance(value, float) else None,
    }


def _ecommerce(event: WebEvent) -> dict[str, Any] | None:
    if event.transaction_id is None:
        return None
    revenue = round(sum(line.product.price * line.quantity for line in event.items), 2)
    return {
        "total_item_quantity": str(sum(line.quantity for line in event.items)),
        "purchase_revenue_in_usd": revenue,
        "purchase_revenue": revenue,
        "unique_items": str(len({line.product.item_id for line in event.items})),
        "transaction_id": event.transaction_id,
    }


def _item(line: CartLine) -> dict[str, Any]:
    product = line.product
    return {
        "item_id": product.item_id,
        "item_name": product.item_name,
        "item_category": product.item_category,
        "price": product.price,
        "quantity": str(line.quantity),
    }
