"""Generate the bundled sample: GA4, Intercom, Amazon Connect and CRM exports, seeded.

The sample is the project's demo data and its end-to-end test fixture, so it must be
reproducible to the byte (same arguments, same files) and must contain known friction,
planted with exact numbers in ``planted.json``, for the pipeline to find.

    python -m journey_mining.generate.sample --out data/sample
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journey_mining.generate.catalog import SWITCHBOARD_NUMBER, TEST_EMAIL
from journey_mining.generate.connect import write_connect
from journey_mining.generate.crm import write_crm
from journey_mining.generate.ga4 import write_ga4
from journey_mining.generate.intercom import write_intercom
from journey_mining.generate.journeys import simulate_customer
from journey_mining.generate.measure import measure_all
from journey_mining.generate.model import Contact, Window
from journey_mining.generate.population import Customer, make_population
from journey_mining.generate.rates import baseline_rates, planted_rates
from journey_mining.generate.readme import render_readme
from journey_mining.generate.web import number_sessions

DEFAULT_START = dt.date(2026, 11, 2)
STALE_PATTERNS = (("ga4", "events_*.jsonl.gz"), ("call", "connect_ctr_*.jsonl"))
"""Day files from an earlier run with other dates are removed before writing."""


@dataclass(frozen=True)
class SampleManifest:
    """What ``generate_sample`` wrote, how much of it, and what friction it planted."""

    out_dir: Path
    ga4_files: tuple[Path, ...]
    chat_file: Path
    call_files: tuple[Path, ...]
    crm_file: Path
    planted_file: Path
    readme_file: Path
    customers: int
    web_sessions: int
    web_events: int
    conversations: int
    contact_records: int  # Connect records, early duplicate copies included
    crm_rows: int
    planted: dict[str, Any] = field(compare=False)

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written, in a stable order."""
        return (
            *self.ga4_files,
            self.chat_file,
            *self.call_files,
            self.crm_file,
            self.planted_file,
            self.readme_file,
        )


def generate_sample(
    out_dir: Path,
    *,
    customers: int = 2000,
    days: int = 14,
    start: dt.date = DEFAULT_START,
    seed: int = 42,
    plant_friction: bool = True,
) -> SampleManifest:
    """Simulate ``customers`` over ``days`` from ``start`` and write every export file."""
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    out_dir = Path(out_dir)
    rates = planted_rates() if plant_friction else baseline_rates()
    window = Window(start, days)
    population = make_population(random.Random(f"{seed}:population"), customers, start)
    histories = [
        simulate_customer(random.Random(f"{seed}:customer:{person.index}"), person, window, rates)
        for person in population
    ]
    sessions = [session for history in histories for session in history.sessions]
    contacts = [contact for history in histories for contact in history.contacts]
    number_sessions(sessions)

    _remove_stale_day_files(out_dir)
    ga4_files, web_events = write_ga4(out_dir, sessions, window, seed)
    chat_file = write_intercom(out_dir, contacts, seed)
    call_files, contact_records = write_connect(out_dir, contacts, window)
    crm_file, crm_rows = write_crm(out_dir, population, seed)

    counts = {
        "customers": customers,
        "registered_customers": sum(person.registered for person in population),
        "cookies": sum(len(person.devices) for person in population),
        "web_sessions": len(sessions),
        "web_events": web_events,
        "conversations": sum(c.channel == "chat" for c in contacts),
        "calls": sum(c.channel == "call" for c in contacts),
        "contact_records": contact_records,
        "contact_records_redelivered": sum(c.redelivered for c in contacts),
        "crm_rows": crm_rows,
    }
    planted = {
        "generator": {
            "seed": seed,
            "customers": customers,
            "days": days,
            "start": start.isoformat(),
            "plant_friction": plant_friction,
            "time_zone": "UTC",
        },
        "counts": counts,
        "identity": _identity_facts(population, contacts),
        **measure_all(sessions, contacts, rates),
    }
    planted_text = json.dumps(planted, indent=2) + "\n"
    planted = json.loads(planted_text)  # the manifest holds exactly what the file says
    planted_file = out_dir / "planted.json"
    planted_file.write_text(planted_text, encoding="utf-8")
    readme_file = out_dir / "README.md"
    readme_file.write_text(render_readme(planted), encoding="utf-8")
    return SampleManifest(
        out_dir=out_dir,
        ga4_files=tuple(ga4_files),
        chat_file=chat_file,
        call_files=tuple(call_files),
        crm_file=crm_file,
        planted_file=planted_file,
        readme_file=readme_file,
        customers=customers,
        web_sessions=len(sessions),
        web_events=web_events,
        conversations=counts["conversations"],
        contact_records=contact_records,
        crm_rows=crm_rows,
        planted=planted,
    )


def _remove_stale_day_files(out_dir: Path) -> None:
    for folder, pattern in STALE_PATTERNS:
        for path in sorted((out_dir / folder).glob(pattern)):
            path.unlink()


def _identity_facts(population: list[Customer], contacts: list[Contact]) -> dict[str, Any]:
    """The identity traps: shared phone and shared email, and how many people hide behind them."""
    switchboard = [c for c in contacts if c.phone_number == SWITCHBOARD_NUMBER]
    test_chats = [c for c in contacts if c.chat and c.chat.author_email.strip().lower() == TEST_EMAIL]
    return {
        "registered_share": round(sum(p.registered for p in population) / len(population), 4),
        "customers_with_two_cookies": sum(len(p.devices) == 2 for p in population),
        "switchboard_number": SWITCHBOARD_NUMBER,
        "switchboard_customers": len({c.customer.index for c in switchboard}),
        "switchboard_calls": len(switchboard),
        "test_email": TEST_EMAIL,
        "test_email_customers": len({c.customer.index for c in test_chats}),
        "test_email_conversations": len(test_chats),
    }


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m journey_mining.generate.sample",
        description="Write the seeded sample exports (GA4, Intercom, Connect, CRM).",
    )
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start", type=dt.date.fromisoformat, default=DEFAULT_START, help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--no-friction", action="store_true", help="flat baseline: plant no friction")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parse_args(argv)
    manifest = generate_sample(
        args.out,
        customers=args.customers,
        days=args.days,
        start=args.start,
        seed=args.seed,
        plant_friction=not args.no_friction,
    )
    size = sum(path.stat().st_size for path in manifest.files)
    print(
        f"wrote {len(manifest.files)} files ({size / 1e6:.2f} MB) to {manifest.out_dir}: "
        f"{manifest.customers} customers, {manifest.web_events} web events, "
        f"{manifest.conversations} conversations, {manifest.contact_records} contact records, "
        f"{manifest.crm_rows} CRM rows"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
