"""The sample's README, rendered from ``planted.json`` so its numbers can never drift."""

from __future__ import annotations

from typing import Any


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0%}" if value <= 1 else f"{value:g}"
    return str(value)


def render_readme(planted: dict[str, Any]) -> str:
    """Markdown describing the files, the identity traps and every planted effect."""
    gen = planted["generator"]
    counts = planted["counts"]
    identity = planted["identity"]
    friction = "with planted friction" if gen["plant_friction"] else "WITHOUT planted friction"
    command = (
        "python -m journey_mining.generate.sample --out data/sample "
        f"--customers {gen['customers']} --days {gen['days']} --seed {gen['seed']} "
        f"--start {gen['start']}" + ("" if gen["plant_friction"] else " --no-friction")
    )
    sections = [
        f"""# Sample data: synthetic exports {friction}

Generated, not collected: {gen["customers"]} invented customers over {gen["days"]} days from
{gen["start"]} (seed {gen["seed"]}). Emails use reserved `example.*` domains and phones the
fictional `+1 555` range. Regenerate byte-for-byte with

```
{command}
```

Every file is written in its vendor's real export format:
the pipeline should read these exactly as it would read a customer's exports. All times
are UTC; the GA4 property's time zone is UTC too, so `event_date` is the UTC date.""",
        _files_section(counts),
        _identity_section(identity),
        "## Planted friction\n\nThe numbers below are measured on the simulation's ground "
        "truth (the true customer behind every cookie, chat and call), so they are what a "
        "perfect pipeline would find. A real pipeline links only what the identifiers allow "
        "(an anonymous cookie never meets a phone call), so expect lower counts but the "
        "same contrasts. Full figures and definitions: `planted.json`.",
        _payment_section(planted["payment_error_by_device"]),
        _help_section(planted["help_page_escalation"]),
        _queue_section(planted["monday_queue"]),
        _cart_section(planted["cart_completed_by_phone"]),
        _repeat_section(planted["repeat_contacts"]),
        _traps_section(),
    ]
    return "\n\n".join(sections) + "\n"


def _files_section(counts: dict[str, Any]) -> str:
    rows: list[tuple[object, ...]] = [
        (
            "`ga4/events_YYYYMMDD.jsonl.gz`",
            "GA4 BigQuery export, one daily table per file, gzip NDJSON",
            f"{counts['web_events']} events in {counts['web_sessions']} sessions",
        ),
        (
            "`chat/intercom_conversations.jsonl`",
            "Intercom conversation objects (API 2.x), one per line",
            f"{counts['conversations']} conversations",
        ),
        (
            "`call/connect_ctr_YYYYMMDD.jsonl`",
            "Amazon Connect contact trace records, one per line, filed by LastUpdateTimestamp",
            f"{counts['contact_records']} records ({counts['calls']} calls, "
            f"{counts['contact_records_redelivered']} early copies)",
        ),
        (
            "`crm/customers.csv`",
            "CRM identity table: `;`-delimited, UTF-8 with BOM, CRLF",
            f"{counts['crm_rows']} registered customers",
        ),
        ("`planted.json`", "what was planted, configured and measured", "-"),
    ]
    note = (
        "\n\nThe generator writes everything above, this README included; a `config.yaml` "
        "kept next to the files (the pipeline's configuration for them) is left untouched."
    )
    return "## Files\n\n" + _table(("file", "format", "rows"), rows) + note


def _identity_section(identity: dict[str, Any]) -> str:
    two_cookies = identity["customers_with_two_cookies"]
    switchboard = (
        f"- {identity['switchboard_customers']} different customers call from the switchboard "
        f"`{identity['switchboard_number']}` ({identity['switchboard_calls']} calls)."
    )
    test_email = (
        f"- {identity['test_email_customers']} different registered customers typed "
        f"`{identity['test_email']}` in {identity['test_email_conversations']} chats, some "
        "while logged in, so the address sits next to several user ids."
    )
    return f"""## Identity: how one person shows up

- **Web**: one or two cookies (`user_pseudo_id`); {two_cookies} customers have two devices.
  Registered customers ({identity["registered_share"]:.0%}) log in on some sessions; from
  the login on, events carry `user_id`.
- **Chat**: an Intercom contact with the email as typed (mixed case, stray spaces);
  `contacts[].external_id` is the `user_id` when the visitor was logged in, else null.
- **Call**: `CustomerEndpoint.Address` (E.164); `Attributes.customer_id` when the
  caller authenticated in the IVR.
- **CRM**: links `customer_id`, email and phone (phones in mixed formats).

Two traps a stitcher must not merge through:

{switchboard}
{test_email}"""


def _payment_section(data: dict[str, Any]) -> str:
    rows: list[tuple[object, ...]] = [
        (device, data["configured_rate"][device], m["add_payment_info"], m["payment_error"],
         m["rate"])
        for device, m in data["measured"].items()
    ]  # fmt: skip
    return (
        "### a. Payment failures on one device type\n\n"
        "On mobile, `add_payment_info` is often followed by a custom `payment_error` event, "
        "and most such sessions end without `purchase` "
        f"({data['of_which_purchased']} of {data['sessions_with_payment_error']} sessions "
        "with an error still purchased).\n\n"
        + _table(("device", "configured", "add_payment_info", "payment_error", "rate"), rows)
    )


def _help_section(data: dict[str, Any]) -> str:
    rows: list[tuple[object, ...]] = [
        (f"`{page}`", data["configured_rate"][page], m["visits"], m["followed_by_contact"],
         m["rate"])
        for page, m in data["measured"].items()
    ]  # fmt: skip
    return (
        "### b. Self-service that fails\n\n"
        "A visit to `/help/delivery-status` is followed within an hour by a chat or call far "
        "more often than a visit to the other help pages.\n\n"
        + _table(("help page", "configured", "visits", "then contact ≤ 60 min", "rate"), rows)
    )


def _queue_section(data: dict[str, Any]) -> str:
    conf = data["configured"]
    rows: list[tuple[object, ...]] = [
        (
            group.replace("_", " "),
            "{:g}-{:g} min".format(*conf[group]["wait_minutes"]),
            conf[group]["abandon_rate"],
            m["queued_calls"],
            m["abandoned"],
            m["abandon_rate"],
            m["median_queue_seconds"],
        )
        for group, m in data["measured"].items()
    ]
    header = ("day", "typical wait", "configured abandon", "queued", "abandoned", "rate",
              "median Queue.Duration s")  # fmt: skip
    return (
        "### c. Long phone queues on Mondays\n\n"
        "Inbound calls that reach a queue; abandoned = `Queue` present but no `Agent` "
        "(after deduplicating on `ContactId`).\n\n" + _table(header, rows)
    )


def _cart_section(data: dict[str, Any]) -> str:
    m = data["measured"]
    return (
        "### d. Carts abandoned online, completed by phone\n\n"
        f"Configured: {data['configured_probability']:.0%} of sessions with `add_to_cart` or "
        "`begin_checkout` but no `purchase` lead to a call within 24 h "
        '(`Attributes.contact_reason` "place_order"). Measured: '
        f"{m['followed_by_phone_order']} of {m['abandoned_cart_sessions']} abandoned-cart "
        f'sessions were followed by a call with `Attributes.outcome` "order_placed" '
        f"({_cell(m['rate'])}). There are {m['phone_orders']} phone orders in all: some "
        "customers simply prefer to order by phone, cart or no cart."
    )


def _repeat_section(data: dict[str, Any]) -> str:
    rows: list[tuple[object, ...]] = [
        (topic, data["configured_rate"][topic], m["contacts"], m["repeated"], m["rate"])
        for topic, m in data["measured"].items()
    ]
    return (
        "### e. Repeat contacts\n\n"
        "A contact followed by another chat or call from the same customer on the same "
        "topic within 7 days. Configured is the chance that an answered contact leaves the "
        "customer unresolved and returning; retries after an abandoned call or a missed "
        "chat add to every topic alike.\n\n"
        + _table(("topic", "configured", "contacts", "repeated ≤ 7 d", "rate"), rows)
    )


def _traps_section() -> str:
    return """## What the pipeline has to cope with

- GA4 rows are unordered within a file; `session_start` (and `first_visit`) share the
  timestamp of the landing `page_view`. The session key is
  (`user_pseudo_id`, `ga_session_id`); INT64 fields are JSON strings.
- Connect delivers at least once: deduplicate on `ContactId` keeping the highest
  `LastUpdateTimestamp`. The early copy has `Agent: null` and no `DisconnectReason` key,
  so counting it would invent abandoned calls.
- Transfers are separate records: `InitiationMethod` TRANSFER, linked by
  `PreviousContactId` / `InitialContactId` / `NextContactId`. Callbacks after an
  abandoned call are `InitiationMethod` CALLBACK with `PreviousContactId` set.
- Some calls end in the IVR (no `Queue`): not abandoned in queue.
- Chats without an admin reply have `statistics.time_to_admin_reply` null (missed).
- The phone line is open 08:00-20:00 UTC; chat is always open.
- Emails need `trim` + `lower`; phones need E.164 normalisation before matching."""
