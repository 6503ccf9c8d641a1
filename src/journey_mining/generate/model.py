"""The simulation's own records: what happened, before any vendor format is applied.

The simulation writes these; the writers (``ga4``, ``intercom``, ``connect``, ``crm``)
only translate them, and ``measure`` counts the planted effects on them. Keeping the
ground truth separate from the export formats is what lets ``planted.json`` state
exact numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from journey_mining.generate.catalog import Product
from journey_mining.generate.population import Customer, Device

CALL_CENTER_HOURS = (8, 20)
"""The phone line is open 08:00-20:00 UTC every day; chat is always open."""


@dataclass(frozen=True)
class Window:
    """The simulated period: ``days`` whole UTC days from ``start``."""

    start_date: dt.date
    days: int

    @property
    def start(self) -> int:
        """Unix seconds of the first midnight."""
        return int(dt.datetime.combine(self.start_date, dt.time(), dt.UTC).timestamp())

    @property
    def end(self) -> int:
        """Unix seconds just after the last day."""
        return self.start + self.days * 86_400

    def dates(self) -> list[dt.date]:
        """Every day of the window, for one export file per day."""
        return [self.start_date + dt.timedelta(days=offset) for offset in range(self.days)]


def weekday(unix_seconds: int) -> int:
    """UTC weekday, 0 = Monday."""
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).weekday()


def in_call_hours(unix_seconds: int) -> bool:
    """Whether the phone line is open at this moment."""
    hour = dt.datetime.fromtimestamp(unix_seconds, dt.UTC).hour
    return CALL_CENTER_HOURS[0] <= hour < CALL_CENTER_HOURS[1]


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int


@dataclass(frozen=True)
class WebEvent:
    """One GA4 event as the simulation knows it (writers add the export envelope)."""

    ts: int  # microseconds since epoch, UTC
    name: str
    path: str
    user_id: str | None  # set once the customer has logged in during the session
    items: tuple[CartLine, ...] = ()
    params: tuple[tuple[str, str | int | float], ...] = ()
    transaction_id: str | None = None


@dataclass
class WebSession:
    """One GA4 session of one cookie; ``number`` is filled in once all sessions are known."""

    customer: Customer
    device: Device
    device_slot: int  # which of the customer's cookies
    start: int  # Unix seconds: GA4's ga_session_id
    events: list[WebEvent] = field(default_factory=list)
    number: int = 0  # ga_session_number
    first_visit: bool = False

    @property
    def end(self) -> int:
        """Unix seconds of the last event."""
        return self.events[-1].ts // 1_000_000 if self.events else self.start


@dataclass(frozen=True)
class ContactRequest:
    """A customer's intent to reach support: when, about what, and through which channels."""

    at: int  # Unix seconds
    topic: str
    reason: str  # escalation / issue / later / cart / phone_order / repeat / retry
    channels: tuple[str, ...] = ("chat", "call")
    page: str | None = None  # page a chat would be opened from
    logged_in: bool = False  # identified on the web at that moment
    device_slot: int = 0
    depth: int = 0  # follow-ups of follow-ups stop after a few rounds
    callback_of: str | None = None  # ContactId this callback answers


@dataclass(frozen=True)
class CallLeg:
    """One Amazon Connect contact: an inbound call, a transfer leg or a callback."""

    contact_id: str
    method: str  # INBOUND / TRANSFER / CALLBACK
    initiated: int  # Unix seconds
    connected_to_system: int
    disconnected: int
    queue_name: str | None
    enqueued: int | None
    dequeued: int | None
    agent: str | None
    connected_to_agent: int | None
    talk_seconds: int
    hold_seconds: int
    holds: int
    after_contact_work_seconds: int
    disconnect_reason: str
    outcome: str | None  # Attributes.outcome
    previous_contact_id: str | None = None
    next_contact_id: str | None = None
    initial_contact_id: str | None = None

    @property
    def abandoned(self) -> bool:
        """Connect's definition: queued but never connected to an agent."""
        return self.enqueued is not None and self.connected_to_agent is None


@dataclass(frozen=True)
class ChatFacts:
    """What Intercom records about one conversation."""

    intercom_contact_id: str
    author_email: str  # as typed: messy case, stray spaces, sometimes the test address
    admin_id: int | None
    first_admin_reply_at: int | None
    first_close_at: int | None
    last_close_at: int | None
    reopens: int
    state: str
    rating: int | None
    remark: str | None
    rated_at: int | None


@dataclass(frozen=True)
class Contact:
    """One chat or one call (with all its legs) by one customer."""

    customer: Customer
    channel: str  # chat / call
    at: int  # Unix seconds the contact started
    topic: str
    reason: str
    outcome: str  # resolved / unresolved / order_placed / abandoned / missed / ivr_hangup
    logged_in: bool  # chat: identified web visitor; call: authenticated in the IVR
    page: str | None = None  # chat: the page it was opened from
    device_slot: int = 0  # chat: the cookie the chat was opened on
    phone_number: str | None = None
    legs: tuple[CallLeg, ...] = ()
    chat: ChatFacts | None = None
    comes_back: bool = False  # unresolved, and the customer returns on the same topic
    redelivered: bool = False  # Connect sent an early, incomplete copy of the first leg
    order_value: float | None = None
