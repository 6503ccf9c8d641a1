"""Large synthetic event logs for benchmarks: vectorised, chunked, deterministic.

``write_bulk_events(out_dir, 100_000_000)`` writes a generic event log (the ``events``
source kind) as Parquet: several files of about ``rows_per_file`` rows, row groups of
about a million rows, rows in random order (exports are not sorted). Everything is
numpy/pyarrow arrays, never one Python object per row, and at most one chunk of
customers (about a million events) plus one output file's rows are in memory at once.

What the log looks like:

- customers with skewed activity: events per customer are lognormal (a few heavy users,
  many one-visit customers), summing exactly to ``events``;
- sessions: bursts of events seconds to minutes apart, then gaps of hours or days; each
  session walks a Markov chain over shop pages (home, category, product, cart, checkout,
  payment errors, help pages), chats and calls, so channels mix inside a session after a
  help page or a payment error (about 85% web, 8% chat, 7% call events);
- identifiers that give stitching work: ``customer_id`` (a device cookie) on web and chat
  events, ``user_id`` on logged-in sessions of registered customers and on their calls,
  ``email`` on most chats and every call (calls carry no cookie).

The same arguments write the same rows in the same order (``seed``). The manifest
(``manifest.json`` next to the files) records what was written; ``BulkManifest.source``
gives the source config that loads it.

    python -m journey_mining.generate.bulk --out /tmp/bulk --events 10M
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

GENERATOR_VERSION = 1
"""Bump when the generated rows change: cached benchmark data is then regenerated."""

DEFAULT_START = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)  # a Monday
EVENTS_PER_CUSTOMER = 25
CHUNK_EVENTS = 1_000_000
ROWS_PER_FILE = 5_000_000
ROW_GROUP_SIZE = 1_000_000
MIN_FILES = 4  # "several files" also for small logs (when there are enough rows)

COLUMNS: dict[str, str] = {
    "anonymous_id": "customer_id",
    "user_id": "user_id",
    "email": "email",
    "ts": "ts",
    "event_name": "event_name",
    "channel": "channel",
    "page": "page",
    "device": "device",
    "wait_seconds": "wait_seconds",
    "topic": "topic",
}
"""The ``columns`` mapping of an ``events`` source reading these files (field -> column)."""

SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("user_id", pa.string()),
        ("email", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("event_name", pa.string()),
        ("channel", pa.string()),
        ("page", pa.string()),
        ("device", pa.string()),
        ("wait_seconds", pa.float64()),
        ("topic", pa.string()),
    ]
)

# --- the session walk -------------------------------------------------------------------
# states: (name, channel, event_name, page kind); page kinds are resolved per event below
STATES: tuple[tuple[str, str, str, str | None], ...] = (
    ("home", "web", "page_view", "/"),
    ("category", "web", "page_view", "category"),
    ("product", "web", "page_view", "product"),
    ("search", "web", "search", "/search"),
    ("add_to_cart", "web", "add_to_cart", "product"),
    ("cart", "web", "page_view", "/cart"),
    ("begin_checkout", "web", "begin_checkout", "/checkout"),
    ("shipping", "web", "page_view", "/checkout/shipping"),
    ("payment", "web", "add_payment_info", "/checkout/payment"),
    ("payment_error", "web", "payment_error", "/checkout/payment"),
    ("purchase", "web", "purchase", "/checkout/confirmation"),
    ("help", "web", "page_view", "help"),
    ("login", "web", "login", "/account/login"),
    ("chat_started", "chat", "started", None),
    ("chat_message", "chat", "message", None),
    ("chat_ended", "chat", "ended", None),
    ("call_queued", "call", "queued", None),
    ("call_answered", "call", "answered", None),
    ("call_abandoned", "call", "abandoned_in_queue", None),
    ("call_transferred", "call", "transferred", None),
    ("call_ended", "call", "ended", None),
    ("call_order", "call", "order_placed", None),
)
STATE_INDEX = {name: i for i, (name, *_rest) in enumerate(STATES)}

START_WEIGHTS = {
    "home": 0.34,
    "category": 0.18,
    "product": 0.20,
    "search": 0.07,
    "cart": 0.02,
    "help": 0.03,
    "login": 0.02,
    "chat_started": 0.11,
    "call_queued": 0.105,
}

TRANSITIONS: dict[str, dict[str, float]] = {
    "home": {
        "category": 0.45,
        "product": 0.15,
        "search": 0.13,
        "help": 0.07,
        "login": 0.07,
        "cart": 0.05,
        "home": 0.08,
    },
    "category": {
        "product": 0.55,
        "category": 0.15,
        "search": 0.10,
        "home": 0.08,
        "help": 0.04,
        "cart": 0.04,
        "login": 0.04,
    },
    "product": {
        "add_to_cart": 0.18,
        "product": 0.25,
        "category": 0.30,
        "search": 0.09,
        "help": 0.04,
        "home": 0.07,
        "cart": 0.07,
    },
    "search": {"product": 0.65, "search": 0.15, "category": 0.15, "help": 0.05},
    "add_to_cart": {"cart": 0.45, "product": 0.25, "category": 0.20, "begin_checkout": 0.10},
    "cart": {"begin_checkout": 0.45, "product": 0.20, "category": 0.20, "help": 0.05, "home": 0.10},
    "begin_checkout": {"shipping": 0.75, "cart": 0.15, "help": 0.10},
    "shipping": {"payment": 0.80, "cart": 0.10, "help": 0.10},
    "payment": {"purchase": 0.78, "payment_error": 0.12, "help": 0.05, "cart": 0.05},
    "payment_error": {"payment": 0.45, "help": 0.35, "chat_started": 0.10, "call_queued": 0.10},
    "purchase": {"home": 0.40, "product": 0.30, "category": 0.30},
    "help": {
        "help": 0.25,
        "home": 0.15,
        "product": 0.15,
        "category": 0.15,
        "chat_started": 0.18,
        "call_queued": 0.12,
    },
    "login": {"home": 0.40, "cart": 0.25, "category": 0.20, "product": 0.15},
    "chat_started": {"chat_message": 0.95, "chat_ended": 0.05},
    "chat_message": {"chat_message": 0.55, "chat_ended": 0.45},
    "chat_ended": {"home": 0.35, "product": 0.25, "cart": 0.20, "help": 0.15, "chat_started": 0.05},
    "call_queued": {"call_answered": 0.82, "call_abandoned": 0.18},
    "call_answered": {"call_ended": 0.60, "call_transferred": 0.20, "call_order": 0.20},
    "call_transferred": {"call_queued": 0.60, "call_answered": 0.40},
    "call_ended": {"home": 0.45, "help": 0.20, "product": 0.20, "call_queued": 0.15},
    "call_abandoned": {"call_queued": 0.50, "help": 0.25, "home": 0.25},
    "call_order": {"call_ended": 0.90, "home": 0.10},
}

NEW_SESSION_PROBABILITY = 1 / 7  # mean events per session about 7
INTRA_GAP_MEDIAN_S, INTRA_GAP_SIGMA, INTRA_GAP_MAX_S = 45.0, 1.0, 25 * 60.0
INTER_GAP_MEDIAN_S, INTER_GAP_SIGMA, INTER_GAP_MIN_S = 86_400.0, 1.3, 35 * 60.0
ACTIVITY_SIGMA = 1.2  # lognormal spread of events per customer
REGISTERED_SHARE = 0.35
LOGGED_IN_SESSION_SHARE = 0.5
CHAT_EMAIL_SHARE = 0.7
DEVICES = ("desktop", "mobile", "tablet")
DEVICE_WEIGHTS = (0.45, 0.45, 0.10)
TOPICS = ("delivery", "returns", "payment", "product_question", "account", "order_status")
CATEGORIES = 40
PRODUCTS = 2000
CHAT_WAIT_MEDIAN_S, CALL_WAIT_MEDIAN_S = 45.0, 150.0


def _matrix() -> tuple[np.ndarray, np.ndarray]:
    """Cumulative start and transition distributions (rows end at exactly 1)."""
    size = len(STATES)
    start = np.zeros(size)
    for name, weight in START_WEIGHTS.items():
        start[STATE_INDEX[name]] = weight
    matrix = np.zeros((size, size))
    for source, targets in TRANSITIONS.items():
        for target, weight in targets.items():
            matrix[STATE_INDEX[source], STATE_INDEX[target]] = weight
    start_cdf = np.cumsum(start / start.sum())
    cdf = np.cumsum(matrix / matrix.sum(axis=1, keepdims=True), axis=1)
    start_cdf[-1] = 1.0
    cdf[:, -1] = 1.0
    return start_cdf, cdf


def _pages() -> tuple[list[str], np.ndarray, int, int, int]:
    """The page dictionary, each state's fixed page (-1: varies or none), and where the
    category, product and help pages start in it."""
    fixed = sorted({kind for *_rest, kind in STATES if kind and kind.startswith("/")})
    pages = list(fixed)
    category_at = len(pages)
    pages += [f"/category/c{k:02d}" for k in range(CATEGORIES)]
    product_at = len(pages)
    pages += [f"/product/p{k:05d}" for k in range(PRODUCTS)]
    help_at = len(pages)
    pages += [f"/help/{topic.replace('_', '-')}" for topic in TOPICS]
    state_page = np.array(
        [pages.index(kind) if kind and kind.startswith("/") else -1 for *_r, kind in STATES]
    )
    return pages, state_page, category_at, product_at, help_at


@dataclass(frozen=True)
class BulkManifest:
    """What ``write_bulk_events`` wrote."""

    out_dir: Path
    files: tuple[Path, ...]
    events: int
    customers: int
    sessions: int  # sessions as generated (heavy users' bursts may merge when sessionized)
    days: int
    seed: int
    start: str
    end: str
    file_prefix: str
    bytes: int
    channel_events: dict[str, int] = field(default_factory=dict)
    version: int = GENERATOR_VERSION
    columns: dict[str, str] = field(default_factory=lambda: dict(COLUMNS))

    @property
    def glob(self) -> str:
        """A glob matching exactly this log's files."""
        return str(self.out_dir / f"{self.file_prefix}-*.parquet")

    def source(self, name: str = "events", path: str | None = None) -> dict[str, Any]:
        """The ``sources`` entry of a config that loads these files."""
        return {"name": name, "kind": "events", "path": path or self.glob, "columns": dict(self.columns)}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["files"] = [p.name for p in self.files]
        return data

    @classmethod
    def read(cls, out_dir: Path | str, file_prefix: str = "events") -> BulkManifest | None:
        """The manifest of a finished earlier run in ``out_dir``, if there is one."""
        path = Path(out_dir) / f"{file_prefix}-manifest.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        data["out_dir"] = Path(out_dir)
        data["files"] = tuple(Path(out_dir) / name for name in data["files"])
        return cls(**data)


def _event_counts(rng: np.random.Generator, events: int, customers: int) -> np.ndarray:
    """Lognormal activity per customer, at least one event each, summing to ``events``."""
    weights = rng.lognormal(0.0, ACTIVITY_SIGMA, customers)
    share = weights / weights.sum() * (events - customers)
    counts = np.floor(share).astype(np.int64)
    remainder = events - customers - int(counts.sum())
    if remainder:
        counts[np.argpartition(-(share - counts), remainder - 1)[:remainder]] += 1
    return counts + 1


def _sample(rng: np.random.Generator, cdf_rows: np.ndarray) -> np.ndarray:
    """One draw per row of cumulative distributions."""
    u = rng.random(len(cdf_rows))
    return (u[:, None] >= cdf_rows).sum(axis=1).astype(np.int8)


def _walk(rng: np.random.Generator, new_session: np.ndarray) -> np.ndarray:
    """Each session's state sequence, advanced one step position at a time for all sessions."""
    start_cdf, cdf = _matrix()
    size = len(new_session)
    firsts = np.flatnonzero(new_session)
    session = np.cumsum(new_session) - 1
    position = np.arange(size) - firsts[session]
    state = np.empty(size, np.int8)
    state[firsts] = _sample(rng, np.broadcast_to(start_cdf, (len(firsts), len(start_cdf))))
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(int(position.max()) + 2))
    for step in range(1, len(bounds) - 1):
        index = order[bounds[step] : bounds[step + 1]]
        state[index] = _sample(rng, cdf[state[index - 1]])
    return state


def _take(dictionary: pa.Array, index: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """Dictionary values by index, null where not ``present``: plain (non-dictionary) strings."""
    mask = None if present is None else ~present
    return pc.take(dictionary, pa.array(index, type=pa.int32(), mask=mask))


def _chunk_table(
    rng: np.random.Generator,
    counts: np.ndarray,
    first_customer: int,
    start_us: int,
    window_s: float,
) -> tuple[pa.Table, int]:
    """Events of customers ``first_customer ...`` (one per entry of ``counts``), by customer and time."""
    customers = len(counts)
    size = int(counts.sum())
    customer = np.repeat(np.arange(customers), counts)
    customer_first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    is_first = np.zeros(size, bool)
    is_first[customer_first] = True
    new_session = is_first | (rng.random(size) < NEW_SESSION_PROBABILITY)
    session = np.cumsum(new_session) - 1
    sessions = int(session[-1]) + 1

    # times: bursts inside sessions, hours to days between them, squeezed into the window
    intra = np.clip(rng.lognormal(math.log(INTRA_GAP_MEDIAN_S), INTRA_GAP_SIGMA, size), 1.0, INTRA_GAP_MAX_S)
    inter = np.maximum(rng.lognormal(math.log(INTER_GAP_MEDIAN_S), INTER_GAP_SIGMA, size), INTER_GAP_MIN_S)
    inter = np.where(new_session & ~is_first, inter, 0.0)
    intra = np.where(new_session, 0.0, intra)
    budget = window_s * 0.98
    inter_total = np.bincount(customer, weights=inter, minlength=customers)
    intra_total = np.bincount(customer, weights=intra, minlength=customers)
    intra_scale = np.minimum(1.0, budget / np.maximum(intra_total, 1e-9))
    inter_budget = np.maximum(budget - intra_total * intra_scale, 0.0)
    inter_scale = np.minimum(1.0, inter_budget / np.maximum(inter_total, 1e-9))
    gaps_us = np.round((inter * inter_scale[customer] + intra * intra_scale[customer]) * 1e6).astype(np.int64)
    elapsed = np.cumsum(gaps_us)
    elapsed -= elapsed[customer_first][customer]
    span_us = elapsed[np.concatenate((customer_first[1:], [size])) - 1]
    slack_us = np.maximum(int(window_s * 1e6) - span_us - 1, 0)
    offset_us = (rng.random(customers) * slack_us).astype(np.int64)
    ts = start_us + offset_us[customer] + elapsed

    # what happens, and the attributes that go with it
    state = _walk(rng, new_session)
    channel_names = np.array([channel for _n, channel, _e, _p in STATES])
    channel_code = np.unique(channel_names, return_inverse=True)[1][state]  # call, chat, web
    is_call, is_chat, is_web = channel_code == 0, channel_code == 1, channel_code == 2
    registered = rng.random(customers) < REGISTERED_SHARE
    session_customer = customer[new_session]
    logged_in = registered[session_customer] & (rng.random(sessions) < LOGGED_IN_SESSION_SHARE)
    chat_email = rng.random(sessions) < CHAT_EMAIL_SHARE
    topic = rng.integers(0, len(TOPICS), sessions)[session]
    device = rng.choice(len(DEVICES), size=customers, p=DEVICE_WEIGHTS)[customer]

    pages, state_page, category_at, product_at, help_at = _pages()
    page = state_page[state].astype(np.int32)
    kind = np.array([k or "" for *_r, k in STATES])[state]
    popularity = 1.0 / np.arange(1, PRODUCTS + 1) ** 1.1
    product_cdf = np.cumsum(popularity / popularity.sum())
    product_cdf[-1] = 1.0
    on = kind == "product"
    page[on] = product_at + np.searchsorted(product_cdf, rng.random(int(on.sum())), side="right")
    on = kind == "category"
    page[on] = category_at + rng.integers(0, CATEGORIES, int(on.sum()))
    on = kind == "help"
    page[on] = help_at + topic[on]

    wait = np.full(size, np.nan)
    on = state == STATE_INDEX["chat_started"]
    wait[on] = np.round(rng.lognormal(math.log(CHAT_WAIT_MEDIAN_S), 1.0, int(on.sum())), 1)
    on = state == STATE_INDEX["call_queued"]
    wait[on] = np.round(rng.lognormal(math.log(CALL_WAIT_MEDIAN_S), 1.0, int(on.sum())), 1)

    ids = np.arange(first_customer, first_customer + customers)
    cookies = pa.array([f"c{i:09d}" for i in ids])
    users = pa.array([f"u{i:09d}" for i in ids])
    emails = pa.array([f"customer{i}@example.com" for i in ids])
    table = pa.table(
        {
            "customer_id": _take(cookies, customer, ~is_call),
            "user_id": _take(
                users, customer, registered[customer] & ((is_web & logged_in[session]) | is_call)
            ),
            "email": _take(emails, customer, is_call | (is_chat & chat_email[session])),
            "ts": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
            "event_name": _take(pa.array([e for _n, _c, e, _p in STATES]), state),
            "channel": _take(pa.array(list(channel_names)), state),
            "page": _take(pa.array(pages), page, page >= 0),
            "device": _take(pa.array(list(DEVICES)), device, ~is_call),
            "wait_seconds": pa.array(wait, mask=np.isnan(wait)),
            "topic": _take(pa.array(list(TOPICS)), topic, ~is_web | (kind == "help")),
        },
        schema=SCHEMA,
    )
    return table, sessions


def _file_count(events: int, rows_per_file: int) -> int:
    return max(math.ceil(events / rows_per_file), min(MIN_FILES, math.ceil(events / 100_000)))


def write_bulk_events(
    out_dir: Path | str,
    events: int,
    *,
    seed: int = 42,
    customers: int | None = None,
    days: int = 14,
    start: dt.datetime = DEFAULT_START,
    file_prefix: str = "events",
    rows_per_file: int = ROWS_PER_FILE,
    row_group_size: int = ROW_GROUP_SIZE,
    chunk_events: int = CHUNK_EVENTS,
) -> BulkManifest:
    """Write ``events`` shuffled events as Parquet files ``<file_prefix>-NNNNN.parquet``.

    ``customers`` defaults to one per 25 events; customer ``i`` is ``c<i>`` in every log
    written with the same ``customers``, so a second log (another seed, a later ``start``)
    is new activity of the same people: an incremental delivery.
    """
    if events < 1:
        raise ValueError("events must be positive")
    customers = customers or max(1, events // EVENTS_PER_CUSTOMER)
    customers = min(customers, events)
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in (*out.glob(f"{file_prefix}-*.parquet"), out / f"{file_prefix}-manifest.json"):
        stale.unlink(missing_ok=True)
    scratch = out / f".{file_prefix}-scatter"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()

    counts = _event_counts(np.random.default_rng([seed, 0]), events, customers)
    files = _file_count(events, rows_per_file)
    window_s = days * 86_400.0
    start_us = int(start.timestamp()) * 1_000_000
    cumulative = np.cumsum(counts)
    cuts = np.unique(np.searchsorted(cumulative, np.arange(chunk_events, events, chunk_events)) + 1)
    bounds = [0, *(int(c) for c in cuts if 0 < c < customers), customers]

    # pass 1: generate customer chunks, scatter each event to a random output file
    writers = [pq.ParquetWriter(scratch / f"{n:05d}.parquet", SCHEMA) for n in range(files)]
    sessions = 0
    channel_events: dict[str, int] = {}
    try:
        for number, (low, high) in enumerate(itertools.pairwise(bounds)):
            table, chunk_sessions = _chunk_table(
                np.random.default_rng([seed, 1, number]), counts[low:high], low, start_us, window_s
            )
            sessions += chunk_sessions
            for value in pc.value_counts(table["channel"]).to_pylist():
                channel_events[value["values"]] = channel_events.get(value["values"], 0) + value["counts"]
            target = np.random.default_rng([seed, 2, number]).integers(0, files, table.num_rows)
            order = np.argsort(target, kind="stable")
            edges = np.searchsorted(target[order], np.arange(files + 1))
            ordered = table.take(pa.array(order))
            for n in range(files):
                if edges[n + 1] > edges[n]:
                    writers[n].write_table(ordered.slice(edges[n], edges[n + 1] - edges[n]))
            del table, ordered
    finally:
        for writer in writers:
            writer.close()

    # pass 2: each file's rows in random order, in row groups of about row_group_size
    written: list[Path] = []
    for n in range(files):
        part = scratch / f"{n:05d}.parquet"
        table = pq.read_table(part)
        shuffle = np.random.default_rng([seed, 3, n]).permutation(table.num_rows)
        path = out / f"{file_prefix}-{n:05d}.parquet"
        pq.write_table(table.take(pa.array(shuffle)), path, row_group_size=row_group_size)
        written.append(path)
        part.unlink()
        del table
    shutil.rmtree(scratch, ignore_errors=True)

    manifest = BulkManifest(
        out_dir=out,
        files=tuple(written),
        events=events,
        customers=customers,
        sessions=sessions,
        days=days,
        seed=seed,
        start=start.isoformat(),
        end=(start + dt.timedelta(days=days)).isoformat(),
        file_prefix=file_prefix,
        bytes=sum(p.stat().st_size for p in written),
        channel_events=dict(sorted(channel_events.items())),
    )
    (out / f"{file_prefix}-manifest.json").write_text(json.dumps(manifest.to_json(), indent=1) + "\n")
    return manifest


def parse_count(text: str) -> int:
    """``100k``, ``10M``, ``1.5M``, ``2G`` or a plain number -> an int."""
    value = text.strip().upper().replace("_", "")
    scale = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000, "B": 1_000_000_000}.get(value[-1:], 1)
    number = value[:-1] if scale > 1 else value
    try:
        result = float(number) * scale
    except ValueError:
        raise ValueError(f"not a count: {text!r}") from None
    if result < 1 or result != int(result):
        raise ValueError(f"not a positive whole count: {text!r}")
    return int(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--events", type=parse_count, required=True, help="e.g. 1M, 100M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers", type=parse_count, default=None)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args(argv)
    manifest = write_bulk_events(
        args.out, args.events, seed=args.seed, customers=args.customers, days=args.days
    )
    print(json.dumps(manifest.to_json(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
