"""Who the customers are: identities, devices and how active they are.

Identity is planted so stitching is possible but not trivial: a customer has one or two
cookies, a ``customer_id`` only when registered, one email and one phone. A few customers
call from a shared switchboard and a few type a shared test email: the super-nodes a
stitcher must refuse to merge through.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from journey_mining.generate.catalog import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES

T = TypeVar("T")

REGISTERED_SHARE = 0.6
SWITCHBOARD_CALLERS = 20
TEST_EMAIL_CHATTERS = 6


def pick(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    """One option drawn by weight: the sample's only weighted-choice helper."""
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights)[0]


@dataclass(frozen=True)
class Device:
    """One browser cookie: GA4's ``user_pseudo_id`` plus the device it lives on."""

    cookie_random: int  # first half of the pseudo id; the second is the first-visit time
    category: str  # desktop / mobile / tablet
    operating_system: str
    browser: str
    is_new: bool  # first visit falls inside the sample window (GA4 emits first_visit)
    first_seen: int  # Unix seconds of the first visit, for returning cookies
    prior_sessions: int  # ga_session_number before the window
    traffic_source: tuple[str, str, str]  # (source, medium, name): first-touch acquisition


@dataclass(frozen=True)
class Customer:
    """One person, with every identifier any source may show for them."""

    index: int
    customer_id: str  # the shop's user id; used only when `registered`
    registered: bool
    first_name: str
    last_name: str
    email: str  # canonical lower-case form; sources write it messily
    phone: str  # E.164
    signup_date: dt.date | None
    country: str
    devices: tuple[Device, ...]
    activity: float  # expected web sessions in 14 days; heavy-tailed across customers
    calls_from_switchboard: bool = False
    chats_with_test_email: bool = False

    @property
    def user_id(self) -> str | None:
        """The id GA4, Intercom and Connect see once the customer identifies."""
        return self.customer_id if self.registered else None


_OS_BROWSER: dict[str, tuple[tuple[tuple[str, str], float], ...]] = {
    "mobile": ((("iOS", "Safari"), 0.5), (("Android", "Chrome"), 0.45), (("iOS", "Chrome"), 0.05)),
    "desktop": (
        (("Windows", "Chrome"), 0.45),
        (("Windows", "Edge"), 0.15),
        (("Macintosh", "Safari"), 0.2),
        (("Macintosh", "Chrome"), 0.1),
        (("Linux", "Firefox"), 0.1),
    ),
    "tablet": ((("iOS", "Safari"), 0.7), (("Android", "Chrome"), 0.3)),
}
_TRAFFIC_SOURCES: tuple[tuple[tuple[str, str, str], float], ...] = (
    (("google", "organic", "(organic)"), 0.4),
    (("(direct)", "(none)", "(direct)"), 0.3),
    (("google", "cpc", "winter_sale"), 0.12),
    (("newsletter", "email", "nov_newsletter"), 0.1),
    (("instagram.com", "referral", "(referral)"), 0.08),
)
_DEVICE_MIX = (("mobile", 0.55), ("desktop", 0.37), ("tablet", 0.08))


def make_population(rng: random.Random, customers: int, start: dt.date) -> list[Customer]:
    """All customers, in index order, with the super-node members flagged."""
    window_start = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp())
    ids = _unique_numbers(rng, customers, 1_000_000, 9_999_999)
    phones = _unique_numbers(rng, customers, 0, 99_999)
    taken_emails: set[str] = set()
    people = []
    for index in range(customers):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        registered = rng.random() < REGISTERED_SHARE
        people.append(
            Customer(
                index=index,
                customer_id=f"C{ids[index]}",
                registered=registered,
                first_name=first,
                last_name=last,
                email=_email(rng, first, last, taken_emails),
                phone=f"+155501{phones[index]:05d}",
                signup_date=start - dt.timedelta(days=rng.randint(5, 900)) if registered else None,
                country=pick(rng, (("United States", 0.85), ("Canada", 0.15))),
                devices=_devices(rng, window_start),
                activity=min(40.0, 1.0 + rng.lognormvariate(0.45, 0.9)),
            )
        )
    return _flag_super_nodes(rng, people)


def _unique_numbers(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    """Distinct random integers, so ids and phones never collide between customers."""
    return rng.sample(range(low, high + 1), count)


def _email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    """A unique, lower-case address in a reserved example domain."""
    domain = rng.choice(EMAIL_DOMAINS)
    local = pick(rng, ((f"{first}.{last}", 0.5), (f"{first[0]}{last}", 0.3), (first, 0.2)))
    email = f"{local}@{domain}".lower()
    while email in taken:
        email = f"{local}{rng.randint(1, 999)}@{domain}".lower()
    taken.add(email)
    return email


def _devices(rng: random.Random, window_start: int) -> tuple[Device, ...]:
    """One or two cookies; a second one usually sits on a different kind of device."""
    first = pick(rng, _DEVICE_MIX)
    categories = [first]
    if rng.random() < 0.35:
        others = [(kind, weight) for kind, weight in _DEVICE_MIX if kind != first]
        categories.append(pick(rng, others))
    devices = []
    for category in categories:
        operating_system, browser = pick(rng, _OS_BROWSER[category])
        is_new = rng.random() < 0.6
        devices.append(
            Device(
                cookie_random=rng.randint(100_000_000, 2_147_483_647),
                category=category,
                operating_system=operating_system,
                browser=browser,
                is_new=is_new,
                first_seen=window_start - rng.randint(86_400, 400 * 86_400),
                prior_sessions=0 if is_new else rng.randint(1, 30),
                traffic_source=pick(rng, _TRAFFIC_SOURCES),
            )
        )
    return tuple(devices)


def _flag_super_nodes(rng: random.Random, people: list[Customer]) -> list[Customer]:
    """Mark the switchboard callers and the test-email chatters (distinct people).

    Testers are registered customers, so the shared email ends up next to several
    user ids: the merge a stitcher must refuse.
    """
    registered = [p.index for p in people if p.registered]
    testers = set(rng.sample(registered, min(len(registered), TEST_EMAIL_CHATTERS)))
    others = [p.index for p in people if p.index not in testers]
    switchboard = set(rng.sample(others, min(len(others), SWITCHBOARD_CALLERS)))
    return [_replace_flags(person, person.index in switchboard, person.index in testers) for person in people]


def _replace_flags(person: Customer, switchboard: bool, tester: bool) -> Customer:
    if not (switchboard or tester):
        return person
    return replace(person, calls_from_switchboard=switchboard, chats_with_test_email=tester)
