"""Chats and calls: turning a customer's contact requests into what support recorded.

Requests are handled in time order per customer, because each contact can cause the
next: an abandoned call is retried, a missed chat is tried again, and an unresolved
contact brings the customer back on the same topic within days. Two planted frictions
act here: the Monday queue (long waits, many hang-ups) and the repeat rate per topic.
"""

from __future__ import annotations

import heapq
import random
import uuid
from dataclasses import dataclass, replace

from journey_mining.generate.catalog import (
    CONNECT_AGENTS,
    CONNECT_QUEUES,
    HOME,
    INTERCOM_ADMIN_IDS,
    ORDERS,
    PLACE_ORDER,
    SWITCHBOARD_NUMBER,
    TEST_EMAIL,
)
from journey_mining.generate.model import (
    CALL_CENTER_HOURS,
    CallLeg,
    ChatFacts,
    Contact,
    ContactRequest,
    in_call_hours,
    weekday,
)
from journey_mining.generate.population import Customer, pick
from journey_mining.generate.rates import BehaviourRates

MAX_DEPTH = 4
"""Follow-ups of follow-ups stop here, so one problem cannot chain forever."""
IVR_AUTHENTICATION = 0.65
IVR_HANGUP = 0.03
TRANSFER = 0.08
MISSED_CHAT = 0.10
REDELIVERED = 0.05
CALLBACK_SHARE = 0.3
"""Share of retries after an abandoned call that the center makes as a queued callback."""


@dataclass(frozen=True)
class _Identity:
    """The Intercom ids a customer's chats use: one identified contact, one lead per cookie."""

    user_contact: str
    lead_contacts: tuple[str, ...]


def resolve_requests(
    rng: random.Random,
    customer: Customer,
    requests: list[ContactRequest],
    rates: BehaviourRates,
    window_end: int,
) -> list[Contact]:
    """Every contact the requests lead to, follow-ups included, in time order."""
    identity = _Identity(
        user_contact=_hex_id(rng),
        lead_contacts=tuple(_hex_id(rng) for _ in customer.devices),
    )
    queue = [(request.at, seq, request) for seq, request in enumerate(requests)]
    heapq.heapify(queue)
    seq = len(queue)
    contacts: list[Contact] = []
    while queue:
        _, _, request = heapq.heappop(queue)
        request = _route(rng, request)
        if request.at >= window_end:
            continue
        contact = _handle(rng, customer, identity, request, rates)
        contacts.append(contact)
        for follow_up in _follow_ups(rng, contact, request):
            seq += 1
            heapq.heappush(queue, (follow_up.at, seq, follow_up))
    return contacts


def _hex_id(rng: random.Random) -> str:
    """Intercom-style 24-hex-digit id."""
    return f"{rng.getrandbits(96):024x}"


def _route(rng: random.Random, request: ContactRequest) -> ContactRequest:
    """Pick the channel; calls outside opening hours go to chat or wait for the morning."""
    channel = request.channels[0] if len(request.channels) == 1 else rng.choice(request.channels)
    if channel == "call" and not in_call_hours(request.at):
        if request.reason == "escalation" or "chat" in request.channels:
            channel = "chat"
        else:
            return replace(request, at=_next_opening(rng, request.at), channels=("call",))
    return replace(request, channels=(channel,))


def _next_opening(rng: random.Random, at: int) -> int:
    """A moment in the first two opening hours after ``at``."""
    day_start = at - at % 86_400
    opening = day_start + CALL_CENTER_HOURS[0] * 3600
    if at >= opening:
        opening += 86_400
    return opening + rng.randint(0, 7200)


def _handle(
    rng: random.Random,
    customer: Customer,
    identity: _Identity,
    request: ContactRequest,
    rates: BehaviourRates,
) -> Contact:
    if request.channels == ("chat",):
        return _chat(rng, customer, identity, request, rates)
    return _call(rng, customer, request, rates)


def _settles(rng: random.Random, request: ContactRequest, rates: BehaviourRates) -> tuple[str, bool]:
    """Outcome of an answered contact, and whether the customer will come back about it."""
    comes_back = request.depth < MAX_DEPTH and rng.random() < rates.repeat(request.topic)
    if comes_back:
        return "unresolved", True
    if request.topic == PLACE_ORDER:
        return ("order_placed" if rng.random() < 0.9 else "resolved"), False
    return ("resolved" if rng.random() < 0.93 else "unresolved"), False


def _chat(
    rng: random.Random,
    customer: Customer,
    identity: _Identity,
    request: ContactRequest,
    rates: BehaviourRates,
) -> Contact:
    """An Intercom conversation: replied to (and maybe rated) or missed."""
    logged_in = request.logged_in and customer.registered
    contact_id = identity.user_contact if logged_in else identity.lead_contacts[request.device_slot]
    email = _test_email(rng) if customer.chats_with_test_email else _messy_email(rng, customer.email)
    if rng.random() < MISSED_CHAT:
        outcome, comes_back = "missed", False
        facts = ChatFacts(contact_id, email, None, None, None, None, 0, "open", None, None, None)
    else:
        outcome, comes_back = _settles(rng, request, rates)
        facts = _replied_chat(rng, contact_id, email, request.at, outcome)
    return Contact(
        customer=customer,
        channel="chat",
        at=request.at,
        topic=request.topic,
        reason=request.reason,
        outcome=outcome,
        logged_in=logged_in,
        page=request.page or (ORDERS if logged_in else HOME),
        device_slot=request.device_slot,
        chat=facts,
        comes_back=comes_back,
    )


def _replied_chat(rng: random.Random, contact_id: str, email: str, at: int, outcome: str) -> ChatFacts:
    """An admin replies, the conversation closes (or is snoozed / left open), maybe rated."""
    replied = at + int(min(3600.0, max(10.0, rng.lognormvariate(4.6, 0.8))))
    closed = replied + rng.randint(240, 1800)
    state = pick(rng, (("closed", 0.9), ("snoozed", 0.05), ("open", 0.05)))
    is_closed = state == "closed"
    reopens = 1 if is_closed and rng.random() < 0.08 else 0
    last_close = closed + rng.randint(3600, 72_000) if reopens else closed
    rating, remark, rated_at = _rating(rng, outcome, last_close) if is_closed else (None,) * 3
    return ChatFacts(
        intercom_contact_id=contact_id,
        author_email=email,
        admin_id=rng.choice(INTERCOM_ADMIN_IDS),
        first_admin_reply_at=replied,
        first_close_at=closed if is_closed else None,
        last_close_at=last_close if is_closed else None,
        reopens=reopens,
        state=state,
        rating=rating,
        remark=remark,
        rated_at=rated_at,
    )


def _rating(rng: random.Random, outcome: str, closed_at: int) -> tuple[int | None, str | None, int | None]:
    """About 40% rate the conversation; unresolved ones rate it low."""
    if rng.random() >= 0.4:
        return None, None, None
    if outcome == "unresolved":
        rating = pick(rng, ((1, 0.5), (2, 0.3), (3, 0.2)))
        remark = pick(rng, (("Still waiting, not helpful", 0.4), (None, 0.6)))
    else:
        rating = pick(rng, ((5, 0.6), (4, 0.3), (3, 0.1)))
        remark = pick(rng, (("Quick and friendly, thanks!", 0.3), (None, 0.7)))
    return rating, remark, closed_at + rng.randint(30, 3600)


def _messy_email(rng: random.Random, email: str) -> str:
    """The address as a person types it: odd capitals, sometimes stray spaces."""
    local, domain = email.split("@")
    style = pick(rng, (("lower", 0.5), ("title", 0.3), ("upper", 0.05), ("domain", 0.15)))
    if style == "title":
        local = ".".join(part.capitalize() for part in local.split("."))
        domain = domain.capitalize()
    elif style == "upper":
        local, domain = local.upper(), domain.upper()
    elif style == "domain":
        domain = domain.capitalize()
    typed = f"{local}@{domain}"
    if rng.random() < 0.15:
        typed = pick(rng, ((f" {typed} ", 0.5), (f"{typed} ", 0.3), (f" {typed}", 0.2)))
    return typed


def _test_email(rng: random.Random) -> str:
    return pick(rng, ((TEST_EMAIL, 0.6), ("Test@Example.com", 0.25), (f" {TEST_EMAIL}", 0.15)))


def _call(rng: random.Random, customer: Customer, request: ContactRequest, rates: BehaviourRates) -> Contact:
    """An Amazon Connect call: IVR, queue, maybe an agent, maybe a transfer."""
    authenticated = customer.registered and rng.random() < IVR_AUTHENTICATION
    redelivered = rng.random() < REDELIVERED
    outcome, comes_back, legs = _call_legs(rng, request, rates)
    return Contact(
        customer=customer,
        channel="call",
        at=request.at,
        topic=request.topic,
        reason=request.reason,
        outcome=outcome,
        logged_in=authenticated,
        phone_number=SWITCHBOARD_NUMBER if customer.calls_from_switchboard else customer.phone,
        legs=tuple(legs),
        comes_back=comes_back,
        redelivered=redelivered,
        order_value=_order_value(rng) if outcome == "order_placed" else None,
    )


def _call_legs(
    rng: random.Random, request: ContactRequest, rates: BehaviourRates
) -> tuple[str, bool, list[CallLeg]]:
    """Outcome, whether the caller will come back, and the Connect legs of one call."""
    method = "CALLBACK" if request.callback_of else "INBOUND"
    start = request.at
    in_system = start + rng.randint(0, 2)
    enqueued = in_system + rng.randint(15, 90)  # IVR menus
    if method == "INBOUND" and rng.random() < IVR_HANGUP:
        leg = _leg(rng, method, start, in_system, enqueued, None, None)
        return "ivr_hangup", False, [leg]
    wait, hangs_up = _queue_wait(rng, weekday(start), rates)
    queue = CONNECT_QUEUES[request.topic]
    if hangs_up and method == "INBOUND":
        leg = _leg(rng, method, start, in_system, enqueued + wait, queue, enqueued)
        return "abandoned", False, [leg]
    outcome, comes_back = _settles(rng, request, rates)
    legs = _answered_legs(rng, method, start, in_system, enqueued, wait, queue, outcome)
    if request.callback_of:
        legs[0] = replace(legs[0], previous_contact_id=request.callback_of)
    return outcome, comes_back, legs


def _queue_wait(rng: random.Random, day: int, rates: BehaviourRates) -> tuple[int, bool]:
    """Seconds in queue and whether the caller hangs up first (then: seconds until they do)."""
    profile = rates.queue(day)
    low, high = profile.wait_minutes
    minutes = rng.uniform(low, high) if rng.random() < profile.typical_share else rng.uniform(low * 0.2, low)
    seconds = int(minutes * 60)
    if rng.random() < profile.abandon_rate:
        return max(5, int(seconds * rng.uniform(0.2, 1.0))), True
    return seconds, False


def _answered_legs(
    rng: random.Random,
    method: str,
    start: int,
    in_system: int,
    enqueued: int,
    wait: int,
    queue: str,
    outcome: str,
) -> list[CallLeg]:
    """One leg, or two when the first agent transfers the caller to another queue."""
    answered = enqueued + wait
    if rng.random() >= TRANSFER:
        return [_talk(rng, method, start, in_system, enqueued, answered, queue, outcome)]
    first = _talk(rng, method, start, in_system, enqueued, answered, queue, "transferred")
    handover = first.disconnected
    second_queue = rng.choice(sorted({*CONNECT_QUEUES.values()} - {queue}))
    second = _talk(
        rng, "TRANSFER", handover, handover, handover, handover + rng.randint(10, 120),
        second_queue, outcome,
    )  # fmt: skip
    first = replace(first, next_contact_id=second.contact_id, disconnect_reason="AGENT_DISCONNECT")
    second = replace(second, previous_contact_id=first.contact_id, initial_contact_id=first.contact_id)
    return [first, second]


def _talk(
    rng: random.Random,
    method: str,
    start: int,
    in_system: int,
    enqueued: int,
    answered: int,
    queue: str,
    outcome: str,
) -> CallLeg:
    """A leg an agent answered: talk, maybe hold, then after-contact work."""
    talk = int(min(3600.0, max(45.0, rng.lognormvariate(5.9, 0.6))))
    holds = pick(rng, ((0, 0.7), (1, 0.22), (2, 0.08)))
    hold = sum(rng.randint(20, 180) for _ in range(holds))
    return CallLeg(
        contact_id=_contact_id(rng),
        method=method,
        initiated=start,
        connected_to_system=in_system,
        disconnected=answered + talk + hold,
        queue_name=queue,
        enqueued=enqueued,
        dequeued=answered,
        agent=rng.choice(CONNECT_AGENTS),
        connected_to_agent=answered,
        talk_seconds=talk,
        hold_seconds=hold,
        holds=holds,
        after_contact_work_seconds=rng.randint(20, 150),
        disconnect_reason=pick(rng, (("CUSTOMER_DISCONNECT", 0.6), ("AGENT_DISCONNECT", 0.4))),
        outcome=outcome,
    )


def _leg(
    rng: random.Random,
    method: str,
    start: int,
    in_system: int,
    disconnected: int,
    queue: str | None,
    enqueued: int | None,
) -> CallLeg:
    """A leg no agent answered: the caller left the IVR or hung up in the queue."""
    return CallLeg(
        contact_id=_contact_id(rng),
        method=method,
        initiated=start,
        connected_to_system=in_system,
        disconnected=disconnected,
        queue_name=queue,
        enqueued=enqueued,
        dequeued=disconnected if queue else None,
        agent=None,
        connected_to_agent=None,
        talk_seconds=0,
        hold_seconds=0,
        holds=0,
        after_contact_work_seconds=0,
        disconnect_reason="CUSTOMER_DISCONNECT",
        outcome=None,
    )


def _contact_id(rng: random.Random) -> str:
    """A uuid4 drawn from the seeded generator, never from the OS."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _order_value(rng: random.Random) -> float:
    return round(rng.uniform(25, 260), 2)


def _follow_ups(rng: random.Random, contact: Contact, request: ContactRequest) -> list[ContactRequest]:
    """What the customer does next: retry a failed contact, or return unresolved."""
    depth = request.depth + 1
    if depth > MAX_DEPTH:
        return []
    again = replace(request, depth=depth, reason="retry", callback_of=None, page=None)
    if contact.outcome == "abandoned" and rng.random() < 0.55:
        if rng.random() < CALLBACK_SHARE:
            callback_of = contact.legs[0].contact_id
            at = contact.legs[0].disconnected + rng.randint(600, 5400)
            return [replace(again, at=at, channels=("call",), callback_of=callback_of)]
        return [replace(again, at=contact.at + rng.randint(300, 10_800), channels=("call",))]
    if contact.outcome == "missed" and rng.random() < 0.5:
        return [replace(again, at=contact.at + rng.randint(3600, 86_400), channels=("chat", "call"))]
    if contact.outcome == "ivr_hangup" and rng.random() < 0.5:
        return [replace(again, at=contact.at + rng.randint(120, 3600))]
    if contact.comes_back:
        at = contact.at + rng.randint(43_200, 432_000)  # 0.5 to 5 days later
        return [replace(again, at=at, reason="repeat", channels=("chat", "call"))]
    return []
