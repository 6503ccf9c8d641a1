"""Byte-stable file writing: the same records always give the same bytes.

Gzip headers carry a timestamp and a file name; JSON key order and float formatting
vary with how a dict was built. Fixing all of them here is what makes the sample
reproducible, so a changed file in git always means changed behaviour.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def json_line(record: dict[str, Any], *, sort_keys: bool = False) -> str:
    """Compact JSON as export tools write it: no spaces, UTF-8 kept as is."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


def shuffled(lines: list[str], seed: str) -> list[str]:
    """Sort, then shuffle with a seeded generator: unordered like BigQuery, yet repeatable."""
    ordered = sorted(lines)
    random.Random(seed).shuffle(ordered)
    return ordered


def write_jsonl(path: Path, lines: Iterable[str]) -> Path:
    """Newline-delimited JSON, LF line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{line}\n" for line in lines).encode("utf-8"))
    return path


def write_jsonl_gz(path: Path, lines: Iterable[str]) -> Path:
    """Gzip NDJSON with mtime 0 and no embedded name, so bytes depend on content only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write("".join(f"{line}\n" for line in lines).encode("utf-8"))
    path.write_bytes(buffer.getvalue())
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    """Semicolon CSV, UTF-8 with BOM, CRLF: the way spreadsheet-minded CRMs export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def iso_seconds(unix_seconds: int) -> str:
    """``2026-11-02T09:15:03Z``: the UTC form Connect uses."""
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_of(unix_seconds: int) -> dt.date:
    """The UTC date of a moment."""
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).date()
