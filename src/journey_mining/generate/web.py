"""Web sessions: a page-to-page walk through the shop, with exits at every step.

A session is a small Markov chain over page kinds (home, category, product, cart,
checkout steps, help pages). Buying sessions push further down the funnel than browsing
ones; loops such as product <-> category happen naturally. Two planted frictions act
here: the payment error rate per device, and the chance that a help-page visit ends in
a chat or call within the hour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from journey_mining.generate.catalog import (
    CART,
    CATEGORIES,
    CHECKOUT,
    CONFIRMATION,
    HELP_CONTACT,
    HELP_DELIVERY,
    HELP_PAGE_TOPICS,
    HELP_PAGES,
    HELP_PAYMENT,
    HELP_RETURNS,
    HOME,
    PRODUCT_QUESTION,
    PRODUCTS,
    SELF_SERVICE_PAGE,
    Product,
    category_path,
)
from journey_mining.generate.model import CartLine, ContactRequest, WebEvent, WebSession
from journey_mining.generate.population import Customer, pick
from journey_mining.generate.rates import BehaviourRates

Transitions = dict[str, tuple[tuple[str, float], ...]]

BROWSE: Transitions = {
    "home": (("category", 0.50), ("product", 0.12), ("help", 0.05), ("exit", 0.33)),
    "category": (
        ("product", 0.55),
        ("category", 0.12),
        ("home", 0.05),
        ("help", 0.01),
        ("exit", 0.27),
    ),
    "product": (
        ("add_to_cart", 0.14),
        ("category", 0.30),
        ("product", 0.16),
        ("help", 0.01),
        ("exit", 0.39),
    ),
    "add_to_cart": (("cart", 0.45), ("category", 0.20), ("product", 0.10), ("exit", 0.25)),
    "cart": (("checkout", 0.45), ("category", 0.15), ("exit", 0.40)),
    "checkout": (("shipping", 0.70), ("cart", 0.08), ("exit", 0.22)),
    "shipping": (("payment", 0.82), ("exit", 0.18)),
    "payment": (("purchase", 0.88), ("exit", 0.12)),
    "payment_error": (("payment", 0.25), ("exit", 0.75)),
    "purchase": (("home", 0.10), ("exit", 0.90)),
    "help": (("home", 0.15), ("help", 0.10), ("exit", 0.75)),
}
BUY: Transitions = {
    **BROWSE,
    "product": (
        ("add_to_cart", 0.35),
        ("category", 0.25),
        ("product", 0.12),
        ("exit", 0.28),
    ),
    "add_to_cart": (("cart", 0.65), ("category", 0.15), ("exit", 0.20)),
    "cart": (("checkout", 0.70), ("category", 0.10), ("exit", 0.20)),
    "checkout": (("shipping", 0.82), ("exit", 0.18)),
    "shipping": (("payment", 0.90), ("exit", 0.10)),
}
LANDING: dict[str, tuple[tuple[str, float], ...]] = {
    "browse": (("home", 0.45), ("category", 0.30), ("product", 0.25)),
    "buy": (("home", 0.30), ("category", 0.30), ("product", 0.40)),
}
BROWSING_HELP_MIX = (
    (HELP_DELIVERY, 0.35),
    (HELP_RETURNS, 0.30),
    (HELP_PAYMENT, 0.20),
    (HELP_CONTACT, 0.15),
)
PAYMENT_ERRORS = (("card_declined", 0.5), ("3ds_timeout", 0.3), ("processor_unavailable", 0.2))
PAYMENT_TYPES = (("credit_card", 0.7), ("paypal", 0.2), ("apple_pay", 0.1))
SHIPPING_TIERS = (("standard", 0.75), ("express", 0.25))
MAX_STEPS = 60
PRODUCT_PAGE_ESCALATION = 0.35
"""Product questions escalate from the product page; not a help page, so not planted."""


@dataclass
class _Walk:
    """A session being built: the clock, the login state, the cart and the page."""

    rng: random.Random
    customer: Customer
    rates: BehaviourRates
    session: WebSession
    clock_us: int
    logged_in: bool
    device_category: str
    page: str = HOME
    category: str = CATEGORIES[0]
    product: Product = PRODUCTS[0]
    cart: list[CartLine] = field(default_factory=list)
    requests: list[ContactRequest] = field(default_factory=list)
    payment_attempts: int = 0

    def emit(
        self,
        name: str,
        items: tuple[CartLine, ...] = (),
        params: tuple[tuple[str, str | int | float], ...] = (),
        transaction_id: str | None = None,
    ) -> None:
        """Record an event on the current page at the current clock."""
        user_id = self.customer.user_id if self.logged_in else None
        event = WebEvent(self.clock_us, name, self.page, user_id, items, params, transaction_id)
        self.session.events.append(event)

    def view(self, path: str) -> None:
        """Move to a page: a reading pause, then page_view."""
        if self.session.events:
            self.wait(min(600.0, max(2.0, self.rng.lognormvariate(3.4, 0.8))))
        self.page = path
        self.emit("page_view")

    def wait(self, seconds: float) -> None:
        self.clock_us += int(seconds * 1_000_000)

    @property
    def now(self) -> int:
        return self.clock_us // 1_000_000


def start_walk(
    rng: random.Random,
    customer: Customer,
    rates: BehaviourRates,
    slot: int,
    start: int,
    logged_in: bool,
) -> _Walk:
    """An empty session on one of the customer's cookies, opened at ``start``."""
    device = customer.devices[slot]
    session = WebSession(customer=customer, device=device, device_slot=slot, start=start)
    return _Walk(
        rng=rng,
        customer=customer,
        rates=rates,
        session=session,
        clock_us=start * 1_000_000 + rng.randint(0, 999_999),
        logged_in=logged_in and customer.registered,
        device_category=device.category,
    )


def shopping_session(walk: _Walk, intent: str) -> tuple[WebSession, list[ContactRequest]]:
    """A browsing or buying visit; help pages on the way may end in a contact request."""
    table = BUY if intent == "buy" else BROWSE
    state = pick(walk.rng, LANDING[intent])
    for step in range(MAX_STEPS):
        state = _enter(walk, state, first=step == 0)
        if state == "escalated":
            break
        state = pick(walk.rng, table[state]) if state in table else state
        if state == "exit":
            break
    return walk.session, walk.requests


def support_session(walk: _Walk, topic: str) -> tuple[WebSession, list[ContactRequest]]:
    """A visit to self-serve a problem: the topic's help page, maybe contact-us after it."""
    if walk.rng.random() < 0.3:
        _enter(walk, "home", first=True)
    if topic == PRODUCT_QUESTION:
        _show_product(walk, walk.rng.choice(PRODUCTS), first=not walk.session.events)
        if walk.rng.random() < PRODUCT_PAGE_ESCALATION:
            _escalate(walk, topic)
        return walk.session, walk.requests
    for path in (SELF_SERVICE_PAGE[topic], HELP_CONTACT):
        _help_page(walk, path, topic, first=not walk.session.events)
        if walk.requests or walk.rng.random() < 0.75:
            break
    return walk.session, walk.requests


def landing_session(walk: _Walk, path: str) -> WebSession:
    """A one-page visit, e.g. the orders page a chat is opened from."""
    _start(walk, path)
    return walk.session


def _start(walk: _Walk, path: str) -> None:
    """GA4 fires session_start together with the landing page_view."""
    walk.page = path
    walk.emit("session_start")
    walk.emit("page_view")


def _enter(walk: _Walk, state: str, first: bool) -> str:
    """Emit the events of one page kind; returns the state the walk is now in."""
    rng = walk.rng
    if state == "home":
        _go(walk, HOME, first)
    elif state == "category":
        walk.category = rng.choice(CATEGORIES)
        _go(walk, category_path(walk.category), first)
    elif state == "product":
        in_category = [p for p in PRODUCTS if p.item_category == walk.category]
        _show_product(walk, rng.choice(in_category if rng.random() < 0.7 else PRODUCTS), first)
    elif state == "add_to_cart":
        line = CartLine(walk.product, pick(rng, ((1, 0.85), (2, 0.12), (3, 0.03))))
        walk.wait(rng.uniform(5, 60))
        walk.cart.append(line)
        walk.emit("add_to_cart", items=(line,))
    elif state == "cart":
        _go(walk, CART, first)
        walk.emit("view_cart")
    elif state in ("checkout", "shipping", "payment", "purchase"):
        return _checkout_step(walk, state)
    elif state == "help":
        page = pick(rng, BROWSING_HELP_MIX)
        return _help_page(walk, page, pick(rng, HELP_PAGE_TOPICS[page]), first)
    return state


def _go(walk: _Walk, path: str, first: bool) -> None:
    if first:
        _start(walk, path)
    else:
        walk.view(path)


def _show_product(walk: _Walk, product: Product, first: bool) -> None:
    walk.product = product
    _go(walk, product.path, first)
    walk.wait(walk.rng.uniform(0.2, 2.0))
    walk.emit("view_item", items=(CartLine(product, 1),))


def _checkout_step(walk: _Walk, state: str) -> str:
    """The checkout funnel; an empty cart cannot check out, so the walk exits."""
    rng = walk.rng
    if not walk.cart:
        return "exit"
    if state == "checkout":
        if not walk.logged_in and walk.customer.registered and rng.random() < 0.75:
            walk.logged_in = True  # signs in to check out; user_id from here on
        walk.view(CHECKOUT)
        walk.emit("begin_checkout")
    elif state == "shipping":
        walk.wait(rng.uniform(20, 120))
        walk.emit("add_shipping_info", params=(("shipping_tier", pick(rng, SHIPPING_TIERS)),))
    elif state == "payment":
        return _pay(walk)
    else:
        _purchase(walk)
    return state


def _pay(walk: _Walk) -> str:
    """add_payment_info, then maybe payment_error: the planted device-specific failure."""
    rng = walk.rng
    walk.payment_attempts += 1
    walk.wait(rng.uniform(15, 90))
    walk.emit("add_payment_info", params=(("payment_type", pick(rng, PAYMENT_TYPES)),))
    if rng.random() < walk.rates.payment_error(walk.device_category):
        walk.wait(rng.uniform(3, 20))
        walk.emit("payment_error", params=(("error_code", pick(rng, PAYMENT_ERRORS)),))
        return "payment_error" if walk.payment_attempts < 3 else "exit"
    return "payment"


def _purchase(walk: _Walk) -> None:
    walk.view(CONFIRMATION)
    revenue = round(sum(line.product.price * line.quantity for line in walk.cart), 2)
    transaction_id = f"T{walk.rng.getrandbits(40):013d}"
    walk.emit(
        "purchase",
        items=tuple(walk.cart),
        params=(("transaction_id", transaction_id), ("value", revenue), ("currency", "USD")),
        transaction_id=transaction_id,
    )
    walk.cart = []


def _help_page(walk: _Walk, path: str, topic: str, first: bool) -> str:
    """Read a help page; the page's escalation rate decides whether a contact follows."""
    _go(walk, path, first)
    if walk.rng.random() < walk.rates.escalation(path):
        _escalate(walk, topic)
        return "escalated"
    return "help"


def _escalate(walk: _Walk, topic: str) -> None:
    """The customer gives up on self-service: a chat from this page, or a call soon after."""
    rng = walk.rng
    channel = "chat" if rng.random() < 0.55 else "call"
    delay = rng.uniform(20, 600) if channel == "chat" else rng.uniform(180, 3300)
    walk.requests.append(
        ContactRequest(
            at=walk.now + int(delay),
            topic=topic,
            reason="escalation",
            channels=(channel,),
            page=walk.page,
            logged_in=walk.logged_in,
            device_slot=walk.session.device_slot,
        )
    )


def number_sessions(sessions: list[WebSession]) -> None:
    """Give each cookie's sessions their ga_session_number and mark the first visit."""
    by_cookie: dict[tuple[int, int], list[WebSession]] = {}
    for session in sessions:
        by_cookie.setdefault((session.customer.index, session.device_slot), []).append(session)
    for cookie_sessions in by_cookie.values():
        cookie_sessions.sort(key=lambda s: s.start)
        for offset, session in enumerate(cookie_sessions, start=1):
            session.number = session.device.prior_sessions + offset
            session.first_visit = session.device.is_new and offset == 1


def is_help_page(path: str) -> bool:
    """Help-center pages are the self-service touchpoints."""
    return path in HELP_PAGES


def abandoned_cart(session: WebSession) -> bool:
    """Put something in the cart or began checkout, yet bought nothing in this session."""
    names = {event.name for event in session.events}
    return bool(names & {"add_to_cart", "begin_checkout"}) and "purchase" not in names
