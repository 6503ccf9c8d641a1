"""Amazon Connect contact trace records, one JSON object per line, one file per day.

Connect delivers records at least once and re-sends a record when it changes, so ~5% of
contacts appear twice: first an early copy written at disconnect (no agent data yet, and
no ``DisconnectReason`` key at all), then the complete one with a later
``LastUpdateTimestamp``. Deduplicating on ``ContactId`` keeping the newest is the
pipeline's job; counting the early copy as abandoned is the trap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journey_mining.generate.catalog import SYSTEM_NUMBER
from journey_mining.generate.exports import iso_seconds, json_line, write_jsonl
from journey_mining.generate.model import CallLeg, Contact, Window

ACCOUNT_ID = "123456789012"
INSTANCE_ARN = f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/5f0c5d1e-7a7e-4f59-9d3a-2b1f0c9e8a11"


def write_connect(out_dir: Path, contacts: list[Contact], window: Window) -> tuple[list[Path], int]:
    """Records filed by the day of their ``LastUpdateTimestamp``, in delivery order.

    Returns the paths (one per window day, empty days included) and the record count,
    early copies included.
    """
    by_day: dict[str, list[tuple[str, str, str]]] = {day.strftime("%Y%m%d"): [] for day in window.dates()}
    for contact in contacts:
        for record in contact_records(contact):
            updated = record["LastUpdateTimestamp"]
            key = (updated, record["ContactId"], json_line(record, sort_keys=True))
            by_day.setdefault(updated[:10].replace("-", ""), []).append(key)
    paths = [
        write_jsonl(out_dir / "call" / f"connect_ctr_{day}.jsonl", [line for *_, line in sorted(keys)])
        for day, keys in sorted(by_day.items())
    ]
    return paths, sum(len(keys) for keys in by_day.values())


def contact_records(contact: Contact) -> list[dict[str, Any]]:
    """Every record Connect delivers for one call: one per leg, plus any early copy."""
    records = []
    for position, leg in enumerate(contact.legs):
        final = _record(contact, leg, is_last_leg=position == len(contact.legs) - 1)
        if position == 0 and contact.redelivered:
            records.append(_early_copy(final, leg))
        records.append(final)
    return records


def _last_update(leg: CallLeg) -> int:
    """The complete record lands after wrap-up, plus a delivery lag fixed by the id."""
    return leg.disconnected + leg.after_contact_work_seconds + 1 + int(leg.contact_id[:4], 16) % 20


def _record(contact: Contact, leg: CallLeg, *, is_last_leg: bool) -> dict[str, Any]:
    return {
        "AWSAccountId": ACCOUNT_ID,
        "AWSContactTraceRecordFormatVersion": "2017-03-10",
        "Agent": _agent(leg),
        "AgentConnectionAttempts": 1 if leg.agent else 0,
        "Attributes": _attributes(contact, leg, is_last_leg),
        "Channel": "VOICE",
        "ConnectedToSystemTimestamp": iso_seconds(leg.connected_to_system),
        "ContactId": leg.contact_id,
        "CustomerEndpoint": {"Address": contact.phone_number, "Type": "TELEPHONE_NUMBER"},
        "DisconnectReason": leg.disconnect_reason,
        "DisconnectTimestamp": iso_seconds(leg.disconnected),
        "InitialContactId": leg.initial_contact_id,
        "InitiationMethod": leg.method,
        "InitiationTimestamp": iso_seconds(leg.initiated),
        "InstanceARN": INSTANCE_ARN,
        "LastUpdateTimestamp": iso_seconds(_last_update(leg)),
        "NextContactId": leg.next_contact_id,
        "PreviousContactId": leg.previous_contact_id,
        "Queue": _queue(leg),
        "Recording": None,
        "SystemEndpoint": {"Address": SYSTEM_NUMBER, "Type": "TELEPHONE_NUMBER"},
        "TransferCompletedTimestamp": (iso_seconds(leg.disconnected) if leg.next_contact_id else None),
    }


def _early_copy(final: dict[str, Any], leg: CallLeg) -> dict[str, Any]:
    """The copy written at disconnect: no agent data, no outcome, no DisconnectReason key."""
    early = {key: value for key, value in final.items() if key != "DisconnectReason"}
    early["Agent"] = None
    early["Attributes"] = {
        key: value for key, value in final["Attributes"].items() if key in ("contact_reason", "customer_id")
    }
    early["LastUpdateTimestamp"] = iso_seconds(leg.disconnected)
    return early


def _attributes(contact: Contact, leg: CallLeg, is_last_leg: bool) -> dict[str, str]:
    """Contact attributes: a string map set by the IVR flow and the agent."""
    attributes = {"contact_reason": contact.topic}
    if contact.logged_in:
        attributes["customer_id"] = contact.customer.customer_id
    if leg.outcome is not None:
        attributes["outcome"] = leg.outcome
    if is_last_leg and contact.order_value is not None:
        attributes["order_value"] = f"{contact.order_value:.2f}"
    return attributes


def _queue(leg: CallLeg) -> dict[str, Any] | None:
    if leg.enqueued is None or leg.dequeued is None:
        return None
    return {
        "Name": leg.queue_name,
        "EnqueueTimestamp": iso_seconds(leg.enqueued),
        "DequeueTimestamp": iso_seconds(leg.dequeued),
        "Duration": leg.dequeued - leg.enqueued,
    }


def _agent(leg: CallLeg) -> dict[str, Any] | None:
    if leg.agent is None or leg.connected_to_agent is None:
        return None
    acw_start = leg.disconnected
    return {
        "Username": leg.agent,
        "ConnectedToAgentTimestamp": iso_seconds(leg.connected_to_agent),
        "AgentInteractionDuration": leg.talk_seconds,
        "CustomerHoldDuration": leg.hold_seconds,
        "NumberOfHolds": leg.holds,
        "AfterContactWorkStartTimestamp": iso_seconds(acw_start),
        "AfterContactWorkEndTimestamp": iso_seconds(acw_start + leg.after_contact_work_seconds),
        "AfterContactWorkDuration": leg.after_contact_work_seconds,
    }
