"""The behaviour knobs: the planted friction next to a flat baseline.

Every rate the planted friction changes lives here, in one place, so the README and
``planted.json`` can quote them and a test can switch them off. The baseline is what the
same world looks like with no friction: one rate for every device, help page, weekday
and topic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from journey_mining.generate.catalog import (
    HELP_CONTACT,
    HELP_DELIVERY,
    HELP_PAYMENT,
    HELP_RETURNS,
    REFUND_STATUS,
)

DEVICES: tuple[str, ...] = ("desktop", "mobile", "tablet")
MONDAY = 0


@dataclass(frozen=True)
class QueueProfile:
    """How long a queued caller waits and how often they hang up before an agent answers."""

    wait_minutes: tuple[float, float]  # most callers wait uniformly within this range
    typical_share: float  # share of callers whose wait falls in that range (rest: shorter)
    abandon_rate: float


@dataclass(frozen=True)
class BehaviourRates:
    """All rates the planted friction changes; everything else is fixed in the simulation."""

    payment_error_by_device: dict[str, float]
    escalation_by_help_page: dict[str, float]
    queue_by_weekday: dict[int, QueueProfile]
    cart_by_phone_probability: float
    repeat_by_topic: dict[str, float] = field(default_factory=dict)
    repeat_default: float = 0.06
    cart_by_phone_window_hours: float = 24.0
    escalation_window_minutes: float = 60.0
    repeat_window_days: float = 7.0

    def payment_error(self, device: str) -> float:
        """Chance that ``add_payment_info`` on this device is followed by ``payment_error``."""
        return self.payment_error_by_device[device]

    def escalation(self, help_page: str) -> float:
        """Chance that a visit to this help page is followed within the hour by a contact."""
        return self.escalation_by_help_page[help_page]

    def queue(self, weekday: int) -> QueueProfile:
        """The queue a call on this weekday (0 = Monday) meets."""
        return self.queue_by_weekday[weekday]

    def repeat(self, topic: str) -> float:
        """Chance that a contact on this topic leaves the customer unresolved and returning."""
        return self.repeat_by_topic.get(topic, self.repeat_default)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready copy for ``planted.json``."""
        data = asdict(self)
        data["queue_by_weekday"] = {
            str(day): asdict(profile) for day, profile in self.queue_by_weekday.items()
        }
        return data


NORMAL_QUEUE = QueueProfile(wait_minutes=(0.5, 3.0), typical_share=0.9, abandon_rate=0.05)
MONDAY_QUEUE = QueueProfile(wait_minutes=(8.0, 25.0), typical_share=0.85, abandon_rate=0.40)
BASE_PAYMENT_ERROR = 0.02
BASE_ESCALATION = 0.08


def baseline_rates() -> BehaviourRates:
    """No planted friction: one rate per knob, whatever the device, page, weekday or topic."""
    return BehaviourRates(
        payment_error_by_device=dict.fromkeys(DEVICES, BASE_PAYMENT_ERROR),
        escalation_by_help_page=dict.fromkeys(
            (HELP_DELIVERY, HELP_RETURNS, HELP_PAYMENT, HELP_CONTACT), BASE_ESCALATION
        ),
        queue_by_weekday=dict.fromkeys(range(7), NORMAL_QUEUE),
        cart_by_phone_probability=0.0,
    )


def planted_rates() -> BehaviourRates:
    """The five planted frictions on top of the baseline."""
    base = baseline_rates()
    return BehaviourRates(
        payment_error_by_device={**base.payment_error_by_device, "mobile": 0.45},
        escalation_by_help_page={**base.escalation_by_help_page, HELP_DELIVERY: 0.50},
        queue_by_weekday={**base.queue_by_weekday, MONDAY: MONDAY_QUEUE},
        cart_by_phone_probability=0.25,
        repeat_by_topic={REFUND_STATUS: 0.70},
    )
