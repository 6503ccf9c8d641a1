"""Count the planted effects on the ground truth, for ``planted.json`` and the README.

These are the numbers a perfect pipeline would find: they use the true customer behind
every cookie, chat and call. A real pipeline sees less (anonymous cookies never link to a
call), so expect its counts to be lower but its contrasts to point the same way.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from typing import Any

from journey_mining.generate.catalog import HELP_PAGES, TOPICS
from journey_mining.generate.model import Contact, WebSession, weekday
from journey_mining.generate.rates import DEVICES, MONDAY, BehaviourRates
from journey_mining.generate.web import abandoned_cart


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _contact_times(contacts: list[Contact]) -> dict[int, list[Contact]]:
    """Each customer's contacts in time order."""
    by_customer: dict[int, list[Contact]] = defaultdict(list)
    for contact in sorted(contacts, key=lambda c: c.at):
        by_customer[contact.customer.index].append(contact)
    return by_customer


def _any_between(contacts: list[Contact], after: int, until: int, **match: str) -> bool:
    """Whether one of these (time-ordered) contacts starts in ``(after, until]``."""
    times = [c.at for c in contacts]
    for contact in contacts[bisect.bisect_right(times, after) :]:
        if contact.at > until:
            return False
        if all(getattr(contact, key) == value for key, value in match.items()):
            return True
    return False


def payment_errors(sessions: list[WebSession], rates: BehaviourRates) -> dict[str, Any]:
    """a. add_payment_info followed directly by payment_error, per device category."""
    attempts: dict[str, int] = dict.fromkeys(DEVICES, 0)
    errors: dict[str, int] = dict.fromkeys(DEVICES, 0)
    failed_sessions = failed_then_bought = 0
    for session in sessions:
        names = [event.name for event in session.events]
        for current, following in zip(names, [*names[1:], None], strict=True):
            if current == "add_payment_info":
                attempts[session.device.category] += 1
                errors[session.device.category] += following == "payment_error"
        if "payment_error" in names:
            failed_sessions += 1
            failed_then_bought += "purchase" in names
    return {
        "definition": "add_payment_info immediately followed by payment_error, by device.category",
        "configured_rate": rates.payment_error_by_device,
        "measured": {
            device: {
                "add_payment_info": attempts[device],
                "payment_error": errors[device],
                "rate": _rate(errors[device], attempts[device]),
            }
            for device in DEVICES
        },
        "sessions_with_payment_error": failed_sessions,
        "of_which_purchased": failed_then_bought,
    }


def help_escalation(
    sessions: list[WebSession], contacts: list[Contact], rates: BehaviourRates
) -> dict[str, Any]:
    """b. help-page views followed by a chat or call of the same customer within the hour."""
    window = int(rates.escalation_window_minutes * 60)
    by_customer = _contact_times(contacts)
    visits: dict[str, int] = dict.fromkeys(HELP_PAGES, 0)
    followed: dict[str, int] = dict.fromkeys(HELP_PAGES, 0)
    for session in sessions:
        own = by_customer.get(session.customer.index, [])
        for event in session.events:
            if event.name == "page_view" and event.path in visits:
                seen = event.ts // 1_000_000
                visits[event.path] += 1
                followed[event.path] += _any_between(own, seen, seen + window)
    return {
        "definition": "page_view of the help page, then a chat or call by the same customer "
        f"starting within {rates.escalation_window_minutes:g} minutes",
        "configured_rate": rates.escalation_by_help_page,
        "measured": {
            page: {
                "visits": visits[page],
                "followed_by_contact": followed[page],
                "rate": _rate(followed[page], visits[page]),
            }
            for page in HELP_PAGES
        },
    }


def queues(contacts: list[Contact], rates: BehaviourRates) -> dict[str, Any]:
    """c. inbound calls that reached a queue: wait and abandonment, Monday vs other days."""
    waits: dict[str, list[int]] = {"monday": [], "other_days": []}
    abandoned: dict[str, int] = {"monday": 0, "other_days": 0}
    for contact in contacts:
        for leg in contact.legs:
            if leg.method != "INBOUND" or leg.enqueued is None or leg.dequeued is None:
                continue
            group = "monday" if weekday(leg.initiated) == MONDAY else "other_days"
            waits[group].append(leg.dequeued - leg.enqueued)
            abandoned[group] += leg.abandoned
    return {
        "definition": "INBOUND contacts with a Queue; abandoned = queued but no Agent; "
        "weekday of InitiationTimestamp in UTC",
        "configured": {
            "monday": rates.as_dict()["queue_by_weekday"][str(MONDAY)],
            "other_days": rates.as_dict()["queue_by_weekday"]["1"],
        },
        "measured": {
            group: {
                "queued_calls": len(values),
                "abandoned": abandoned[group],
                "abandon_rate": _rate(abandoned[group], len(values)),
                "median_queue_seconds": statistics.median(values) if values else None,
            }
            for group, values in waits.items()
        },
    }


def carts_by_phone(
    sessions: list[WebSession], contacts: list[Contact], rates: BehaviourRates
) -> dict[str, Any]:
    """d. abandoned web carts followed by a phone order from the same customer within 24 h."""
    window = int(rates.cart_by_phone_window_hours * 3600)
    by_customer = _contact_times(contacts)
    carts = [s for s in sessions if abandoned_cart(s)]
    followed = sum(
        _any_between(
            by_customer.get(s.customer.index, []),
            s.end,
            s.end + window,
            channel="call",
            outcome="order_placed",
        )
        for s in carts
    )
    phone_orders = [c for c in contacts if c.outcome == "order_placed"]
    return {
        "definition": "session with add_to_cart or begin_checkout and no purchase, then a call "
        f"with Attributes.outcome order_placed within {rates.cart_by_phone_window_hours:g} h "
        "of the session's last event",
        "configured_probability": rates.cart_by_phone_probability,
        "measured": {
            "abandoned_cart_sessions": len(carts),
            "followed_by_phone_order": followed,
            "rate": _rate(followed, len(carts)),
            "phone_orders": len(phone_orders),
        },
    }


def repeats(contacts: list[Contact], rates: BehaviourRates) -> dict[str, Any]:
    """e. contacts followed by another contact on the same topic within 7 days."""
    window = int(rates.repeat_window_days * 86_400)
    by_customer = _contact_times(contacts)
    totals: dict[str, int] = dict.fromkeys(TOPICS, 0)
    repeated: dict[str, int] = dict.fromkeys(TOPICS, 0)
    for own in by_customer.values():
        for contact in own:
            totals[contact.topic] += 1
            repeated[contact.topic] += _any_between(own, contact.at, contact.at + window, topic=contact.topic)
    return {
        "definition": "chat or call (first leg), then another chat or call by the same customer "
        f"on the same topic within {rates.repeat_window_days:g} days; retries after an "
        "abandoned call or missed chat count too",
        "configured_rate": {topic: rates.repeat(topic) for topic in TOPICS},
        "measured": {
            topic: {
                "contacts": totals[topic],
                "repeated": repeated[topic],
                "rate": _rate(repeated[topic], totals[topic]),
            }
            for topic in TOPICS
        },
    }


def measure_all(sessions: list[WebSession], contacts: list[Contact], rates: BehaviourRates) -> dict[str, Any]:
    """The five planted effects, each with its definition, configured and measured values."""
    return {
        "payment_error_by_device": payment_errors(sessions, rates),
        "help_page_escalation": help_escalation(sessions, contacts, rates),
        "monday_queue": queues(contacts, rates),
        "cart_completed_by_phone": carts_by_phone(sessions, contacts, rates),
        "repeat_contacts": repeats(contacts, rates),
    }
