"""The CRM identity table: the one place customer id, email and phone sit on one row.

Written the way a spreadsheet-minded CRM exports it (``;``, BOM, CRLF), with phones in
whatever format the agent typed and emails in mixed case, so the pipeline's
normalisation is what makes the join work.
"""

from __future__ import annotations

import random
from pathlib import Path

from journey_mining.generate.exports import write_csv
from journey_mining.generate.population import Customer, pick

HEADER = ("customer_id", "email", "phone", "signup_date")


def write_crm(out_dir: Path, customers: list[Customer], seed: int) -> tuple[Path, int]:
    """Registered customers only, ordered by customer_id; returns the path and row count."""
    rng = random.Random(f"{seed}:crm")
    registered = sorted((c for c in customers if c.registered), key=lambda c: c.customer_id)
    rows = [
        (
            customer.customer_id,
            _typed_email(rng, customer.email),
            _typed_phone(rng, customer.phone) if rng.random() >= 0.04 else "",
            customer.signup_date.isoformat() if customer.signup_date else "",
        )
        for customer in registered
    ]
    return write_csv(out_dir / "crm" / "customers.csv", HEADER, rows), len(rows)


def _typed_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    style = pick(rng, (("lower", 0.55), ("title", 0.35), ("upper", 0.1)))
    if style == "title":
        return f"{'.'.join(p.capitalize() for p in local.split('.'))}@{domain.capitalize()}"
    return email.upper() if style == "upper" else email


def _typed_phone(rng: random.Random, e164: str) -> str:
    """``+15550101234`` as a person might have typed it."""
    area, exchange, line = e164[2:5], e164[5:8], e164[8:]
    return pick(
        rng,
        (
            (f"+1 {area}-{exchange}-{line}", 0.35),
            (f"({area}) {exchange}-{line}", 0.3),
            (f"{area}{exchange}{line}", 0.2),
            (e164, 0.1),
            (f"{area}.{exchange}.{line}", 0.05),
        ),
    )
