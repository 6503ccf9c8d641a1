"""One customer's two weeks: shopping visits, the problems they lead to, and the contacts.

The order matters and mirrors cause and effect: shopping sessions first (purchases,
abandoned carts, help pages read on the way), then the problems orders cause (delivery,
returns, refunds) and the background ones, then self-service attempts, and finally the
contacts all of this leads to. Each customer draws from their own seeded generator, so
changing how one customer behaves does not reshuffle everyone else.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from journey_mining.generate.catalog import (
    BILLING,
    DELIVERY,
    ORDERS,
    PAYMENT,
    PLACE_ORDER,
    PRODUCT_QUESTION,
    REFUND_STATUS,
    RETURNS,
)
from journey_mining.generate.contacts import resolve_requests
from journey_mining.generate.model import Contact, ContactRequest, WebSession, Window, in_call_hours
from journey_mining.generate.population import Customer
from journey_mining.generate.rates import BehaviourRates
from journey_mining.generate.web import (
    abandoned_cart,
    landing_session,
    shopping_session,
    start_walk,
    support_session,
)

HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 7, 6, 6, 6, 7, 8, 9, 9, 7, 4, 2)
"""Relative web traffic by UTC hour: quiet nights, evening peak."""
DAY = 86_400
BACKGROUND_ISSUES = (
    (DELIVERY, 0.08),  # orders placed before the window
    (RETURNS, 0.05),
    (REFUND_STATUS, 0.05),
    (PAYMENT, 0.04),
    (BILLING, 0.05),
    (PRODUCT_QUESTION, 0.07),
)
PHONE_ORDER = 0.06
"""Baseline: some customers simply prefer to order by phone, cart or no cart."""
SELF_SERVICE = 0.55
LATER_CONTACT = 0.3


@dataclass(frozen=True)
class CustomerHistory:
    """What one customer left behind: web sessions and contacts, the ground truth."""

    customer: Customer
    sessions: list[WebSession]
    contacts: list[Contact]


@dataclass(frozen=True)
class _Issue:
    """A problem the customer has, at a moment, maybe restricted to one channel."""

    at: int
    topic: str
    channels: tuple[str, ...] = ("chat", "call")


def simulate_customer(
    rng: random.Random, customer: Customer, window: Window, rates: BehaviourRates
) -> CustomerHistory:
    """Everything one customer does on the web, in chat and on the phone."""
    sessions, requests = _shopping(rng, customer, window, rates)
    for issue in _issues(rng, customer, window, sessions):
        issue_sessions, issue_requests = _self_serve(rng, customer, issue, rates)
        sessions += issue_sessions
        requests += issue_requests
    requests += _cart_calls(rng, sessions, rates)
    if rng.random() < PHONE_ORDER:
        requests.append(_phone_order(rng, window))
    contacts = resolve_requests(rng, customer, requests, rates, window.end)
    sessions += _chat_pages(rng, customer, contacts, rates)
    for session in sessions:  # GA4 files hold the window's days only
        session.events = [e for e in session.events if window.start <= e.ts // 10**6 < window.end]
    sessions = [s for s in sessions if s.events and window.start <= s.start]
    return CustomerHistory(customer, sorted(sessions, key=lambda s: s.start), contacts)


def _random_moment(rng: random.Random, window: Window) -> int:
    """A moment in the window, following the daily traffic curve."""
    day = rng.randrange(window.days)
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    return window.start + day * DAY + hour * 3600 + rng.randrange(3600)


def _open_moment(rng: random.Random, window: Window) -> int:
    """A random moment when the phone line is open."""
    at = _random_moment(rng, window)
    while not in_call_hours(at):
        at = _random_moment(rng, window)
    return at


def _phone_order(rng: random.Random, window: Window) -> ContactRequest:
    """A call to order by phone, not prompted by any cart."""
    at = _open_moment(rng, window)
    return ContactRequest(at=at, topic=PLACE_ORDER, reason="phone_order", channels=("call",))


def _shopping(
    rng: random.Random, customer: Customer, window: Window, rates: BehaviourRates
) -> tuple[list[WebSession], list[ContactRequest]]:
    """The customer's ordinary visits; heavy users get many, most get a few."""
    expected = customer.activity * window.days / 14
    count = max(1, int(expected + rng.random()))
    sessions: list[WebSession] = []
    requests: list[ContactRequest] = []
    for start in sorted(_random_moment(rng, window) for _ in range(count)):
        slot = _pick_device(rng, customer)
        logged_in = rng.random() < 0.35
        walk = start_walk(rng, customer, rates, slot, start, logged_in)
        intent = "buy" if rng.random() < 0.3 else "browse"
        session, session_requests = shopping_session(walk, intent)
        sessions.append(session)
        requests += session_requests
    return sessions, requests


def _pick_device(rng: random.Random, customer: Customer) -> int:
    """Mostly the main device; the second cookie gets the rest."""
    if len(customer.devices) == 1 or rng.random() < 0.7:
        return 0
    return 1


def _issues(
    rng: random.Random, customer: Customer, window: Window, sessions: list[WebSession]
) -> list[_Issue]:
    """Problems from this window's orders, background problems, and the super-node ones."""
    issues: list[_Issue] = []
    for session in sessions:
        if any(event.name == "purchase" for event in session.events):
            issues += _order_issues(rng, session.end)
    for topic, chance in BACKGROUND_ISSUES:
        if rng.random() < chance:
            issues.append(_Issue(_random_moment(rng, window), topic))
    if customer.chats_with_test_email:
        issues.append(_Issue(_random_moment(rng, window), PRODUCT_QUESTION, ("chat",)))
    if customer.calls_from_switchboard:
        issues.append(_Issue(_open_moment(rng, window), DELIVERY, ("call",)))
    return [issue for issue in issues if issue.at < window.end]


def _order_issues(rng: random.Random, ordered_at: int) -> list[_Issue]:
    """An order may not arrive on time, or go back, and then the refund takes a while."""
    issues = []
    if rng.random() < 0.2:
        issues.append(_Issue(ordered_at + rng.randint(DAY, 6 * DAY), DELIVERY))
    if rng.random() < 0.1:
        returned = ordered_at + rng.randint(3 * DAY, 10 * DAY)
        issues.append(_Issue(returned, RETURNS))
        if rng.random() < 0.5:
            issues.append(_Issue(returned + rng.randint(4 * DAY, 9 * DAY), REFUND_STATUS))
    return issues


def _self_serve(
    rng: random.Random, customer: Customer, issue: _Issue, rates: BehaviourRates
) -> tuple[list[WebSession], list[ContactRequest]]:
    """Read the help center first (maybe), then contact support now, later, or never."""
    signed_in = _signs_in(rng, customer)
    direct = ContactRequest(issue.at, issue.topic, "issue", issue.channels, logged_in=signed_in)
    if len(issue.channels) == 1 or rng.random() >= SELF_SERVICE:
        return [], [direct]
    slot = _pick_device(rng, customer)
    walk = start_walk(rng, customer, rates, slot, issue.at, rng.random() < 0.6)
    session, requests = support_session(walk, issue.topic)
    if not requests and rng.random() < LATER_CONTACT:
        later = session.end + rng.randint(2 * 3600, 2 * DAY)
        requests = [ContactRequest(later, issue.topic, "later", logged_in=signed_in)]
    return [session], requests


def _signs_in(rng: random.Random, customer: Customer) -> bool:
    """Registered customers mostly sign in to ask about an order (testers always do)."""
    return customer.registered and (customer.chats_with_test_email or rng.random() < 0.7)


def _cart_calls(
    rng: random.Random, sessions: list[WebSession], rates: BehaviourRates
) -> list[ContactRequest]:
    """Planted: some who abandon a cart phone within a day to place the order."""
    requests = []
    window_seconds = int(rates.cart_by_phone_window_hours * 3600)
    for session in sessions:
        if not abandoned_cart(session) or rng.random() >= rates.cart_by_phone_probability:
            continue
        for _ in range(30):
            at = session.end + rng.randint(1200, window_seconds - 1800)
            if in_call_hours(at):
                requests.append(ContactRequest(at=at, topic=PLACE_ORDER, reason="cart", channels=("call",)))
                break
    return requests


def _chat_pages(
    rng: random.Random, customer: Customer, contacts: list[Contact], rates: BehaviourRates
) -> list[WebSession]:
    """Chats not opened from a page we simulated get the visit they were opened from."""
    sessions = []
    for contact in contacts:
        if contact.channel != "chat" or contact.reason == "escalation":
            continue
        landed = contact.at - rng.randint(30, 150)
        walk = start_walk(rng, customer, rates, contact.device_slot, landed, contact.logged_in)
        sessions.append(landing_session(walk, contact.page or ORDERS))
    return sessions
