"""Intercom conversations (API 2.x shape), one JSON object per line.

Times are Unix seconds, ids are strings of digits (conversations) or hex (contacts),
and the author's email is kept exactly as typed: normalising it is the pipeline's job.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from journey_mining.generate.catalog import CHAT_OPENERS, INTERCOM_TAG_IDS, SHOP_URL
from journey_mining.generate.exports import json_line, write_jsonl
from journey_mining.generate.model import ChatFacts, Contact

FIRST_CONVERSATION_ID = 215_470_000_000


def write_intercom(out_dir: Path, contacts: list[Contact], seed: int) -> Path:
    """All chats in one file, in creation order, ids increasing as Intercom assigns them."""
    chats = sorted((c for c in contacts if c.channel == "chat"), key=lambda c: (c.at, c.customer.index))
    rng = random.Random(f"{seed}:intercom")
    lines = []
    next_id = FIRST_CONVERSATION_ID
    for chat in chats:
        next_id += rng.randint(3, 60)
        lines.append(json_line(conversation(chat, str(next_id), rng)))
    return write_jsonl(out_dir / "chat" / "intercom_conversations.jsonl", lines)


def conversation(contact: Contact, conversation_id: str, rng: random.Random) -> dict[str, Any]:
    """One conversation object."""
    facts = contact.chat
    assert facts is not None, "only chats become conversations"
    customer = contact.customer
    name = f"{customer.first_name} {customer.last_name}" if contact.logged_in else None
    updated = max(
        t
        for t in (contact.at, facts.first_admin_reply_at, facts.last_close_at, facts.rated_at)
        if t is not None
    )
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": contact.at,
        "updated_at": updated,
        "waiting_since": contact.at if facts.first_admin_reply_at is None else None,
        "snoozed_until": updated + 86_400 if facts.state == "snoozed" else None,
        "state": facts.state,
        "open": facts.state != "closed",
        "read": facts.first_admin_reply_at is not None,
        "priority": "not_priority",
        "admin_assignee_id": facts.admin_id,
        "team_assignee_id": None,
        "source": {
            "type": "conversation",
            "id": str(rng.randint(10**9, 10**10 - 1)),
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": f"<p>{CHAT_OPENERS[contact.topic]}</p>",
            "author": {
                "type": "user",
                "id": facts.intercom_contact_id,
                "name": name,
                "email": facts.author_email,
            },
            "url": f"{SHOP_URL}{contact.page}",
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": facts.intercom_contact_id,
                    "external_id": customer.customer_id if contact.logged_in else None,
                }
            ],
        },
        "tags": {
            "type": "tag.list",
            "tags": [{"type": "tag", "id": INTERCOM_TAG_IDS[contact.topic], "name": contact.topic}],
        },
        "statistics": _statistics(contact.at, facts),
        "conversation_rating": _rating(facts),
    }


def _statistics(created: int, facts: ChatFacts) -> dict[str, Any]:
    replied = facts.first_admin_reply_at
    assigned = created + 5 if facts.admin_id is not None else None
    return {
        "type": "conversation_statistics",
        "time_to_assignment": 5 if assigned else None,
        "time_to_admin_reply": replied - created if replied else None,
        "time_to_first_close": facts.first_close_at - created if facts.first_close_at else None,
        "time_to_last_close": facts.last_close_at - created if facts.last_close_at else None,
        "first_contact_reply_at": created,
        "first_assignment_at": assigned,
        "first_admin_reply_at": replied,
        "first_close_at": facts.first_close_at,
        "last_close_at": facts.last_close_at,
        "count_reopens": facts.reopens,
        "count_assignments": 1 if assigned else 0,
    }


def _rating(facts: ChatFacts) -> dict[str, Any] | None:
    if facts.rating is None:
        return None
    return {
        "rating": facts.rating,
        "remark": facts.remark,
        "created_at": facts.rated_at,
        "contact": {"type": "contact", "id": facts.intercom_contact_id},
    }
