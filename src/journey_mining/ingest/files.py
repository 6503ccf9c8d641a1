"""Finding a source's files and making each one readable by the engine.

Real exports arrive gzip-compressed, with a byte-order mark (UTF-8, UTF-16, UTF-32), or
in Latin-1. The engine wants plain UTF-8, so such files are streamed once into a UTF-8
copy in a scratch folder; clean UTF-8 files are read in place. The checksum is always of
the original bytes, which is what makes a re-delivered file recognisable.

A text source that is not text (an image, an archive, random bytes, UTF-16 without a
byte-order mark) fails with that said, rather than loading as thousands of broken rows.
JSON that is not one record per line is rewritten to be: a JSON array (pretty-printed or
on one line) gives one record per element, pretty-printed records one after another give
one record each, and records written back to back on one line (Kinesis Firehose:
``}{``) are split. Then ``source_row`` counts records in that rewritten form.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import hashlib
import json
import re
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from journey_mining.config import Config, SourceConfig

CHUNK = 1 << 20
UTF8_BOM = codecs.BOM_UTF8
DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error)  # truncated, corrupt, or not gzip after all

# a byte-order mark names its encoding (UTF-32 first: its little-endian mark starts like UTF-16's)
BOM_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed twice"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"(\xb5/\xfd", "a zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)
SNIFF_BYTES = 64 << 10
# control bytes that text does not contain (tab, newlines, form feed, DOS end-of-file are fine)
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 0x20 or b == 0x7F) or b in b"\t\n\r\f\v\x1a")
MAX_CONTROL_SHARE = 0.05  # random bytes have ~11%, text ~0%; a stray NUL in a line is a row problem
MAX_JSON_DOCUMENT = 256 << 20  # a pretty-printed JSON document is read whole: bound it
_JOINED = re.compile(r"\}[ \t]*\{")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class SourceFileError(ValueError):
    """A file that cannot be read at all; the message names the file."""


class SourceFileUnavailableError(SourceFileError):
    """The file system failed us (permissions, vanished file): a retry may succeed."""


@dataclass(frozen=True)
class PreparedFile:
    original: Path
    readable: Path  # UTF-8, uncompressed, no BOM: what the engine reads
    sha256: str
    size_bytes: int
    format: str  # jsonl, parquet or csv
    mtime_ns: int  # from the stat taken before reading: with path and size, the loader's quick check


DATE_PLACEHOLDER = re.compile(r"\{date(?::([^}]*))?\}")


def path_patterns(path: str, run_date: date | None, lookback_days: int = 0) -> list[str]:
    """Expand ``{date:%Y%m%d}`` placeholders: the run's day (and lookback days), or any day."""
    if not DATE_PLACEHOLDER.search(path):
        return [path]
    if run_date is None:
        return [DATE_PLACEHOLDER.sub("*", path)]
    days = [run_date - timedelta(days=n) for n in range(lookback_days, -1, -1)]
    return [
        DATE_PLACEHOLDER.sub(lambda m, day=day: day.strftime(m.group(1) or "%Y-%m-%d"), path) for day in days
    ]


def source_files(config: Config, source: SourceConfig, run_date: date | None = None) -> list[Path]:
    """The files a source's path or glob names, sorted for a deterministic load order."""
    found: set[Path] = set()
    for pattern in path_patterns(source.path, run_date, source.lookback_days):
        absolute = str(config.resolve(pattern))
        found.update(Path(p) for p in glob.glob(absolute, recursive=True) if Path(p).is_file())  # noqa: PTH207
    return sorted(found)


def infer_format(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last in (".parquet", ".pq"):
        return "parquet"
    if last in (".csv", ".tsv", ".txt"):
        return "csv"
    raise SourceFileError(f"{path}: cannot tell the format from the extension; set 'format'")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def engine_message(err: BaseException, limit: int = 300) -> str:
    """An engine error as one short line: its first statement, without hints or query text."""
    kept: list[str] = []
    for line in str(err).splitlines():
        text = line.strip()
        if not text:
            if kept:
                break
            continue
        if text.startswith(("LINE ", "Possible", "The search space", "file = ")):
            break
        if not text.startswith("Original Line:"):
            kept.append(text)
    message = re.sub(r"^[A-Za-z ]*(Error|Exception): ", "", "; ".join(kept)) or type(err).__name__
    return message if len(message) <= limit else message[: limit - 1] + "\u2026"


def _open_raw(path: Path) -> BinaryIO:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _scan_utf8(path: Path) -> tuple[bool, bool]:
    """(clean, joined): uncompressed UTF-8 without BOM (readable in place); JSON records
    written back to back (``}{``) somewhere in it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    joined = False
    with path.open("rb") as handle:
        first = handle.read(CHUNK)
        if first[:2] == b"\x1f\x8b" or first.startswith(UTF8_BOM):
            return False, False
        chunk, tail = first, b""
        while chunk:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False, False
            if not joined:
                joined, tail = _has_joined(tail, chunk)
            chunk = handle.read(CHUNK)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, False
    return True, joined


def _has_joined(tail: bytes, chunk: bytes) -> tuple[bool, bytes]:
    """Whether ``}{`` (records back to back) is in ``tail + chunk``; the next tail."""
    window = tail + chunk
    return b"}{" in window or b"} {" in window or b"}\t{" in window, chunk[-2:]


def _head(path: Path) -> bytes:
    """The first bytes of the file's content (decompressed)."""
    try:
        with _open_raw(path) as handle:
            return handle.read(SNIFF_BYTES)
    except DECOMPRESS_ERRORS as err:
        raise SourceFileError(f"{path}: cannot decompress ({err})") from None


def _bom_encoding(head: bytes) -> str | None:
    return next((encoding for bom, encoding in BOM_ENCODINGS if head.startswith(bom)), None)


def _require_text(path: Path, head: bytes, fmt: str) -> None:
    """Fail on content that is no text at all: a known binary format, or control bytes."""
    what = next((name for signature, name in BINARY_SIGNATURES if head.startswith(signature)), None)
    if what is None and head:
        controls = len(head.translate(None, _NOT_CONTROL))
        if controls > MAX_CONTROL_SHARE * len(head):
            nuls = head.count(0)
            # ASCII as UTF-16: every other byte is NUL
            halves = max(head[0::2].count(0), head[1::2].count(0))
            utf16 = nuls > len(head) / 4 and halves > 0.9 * nuls
            what = "UTF-16 text without a byte-order mark" if utf16 else "binary data"
    if what is not None:
        label = "JSON lines" if fmt == "jsonl" else "CSV"
        raise SourceFileError(
            f"{path}: not a text file ({what}); {label} must be UTF-8, Latin-1, "
            "or UTF-16 with a byte-order mark"
        )


def _detect_encoding(path: Path) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _open_raw(path) as handle:
        try:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
        except DECOMPRESS_ERRORS as err:
            raise SourceFileError(f"{path}: cannot decompress ({err})") from None
    return "utf-8-sig"


def _transcode(path: Path, target: Path, encoding: str) -> bool:
    """Stream ``path`` into UTF-8 at ``target`` (decompressing, dropping a BOM); returns
    whether JSON records are written back to back (``}{``) in it."""
    # UTF-16/32 named by a byte-order mark: an odd trailing byte (a cut file) or a lone
    # surrogate becomes U+FFFD inside its record, which then fails on its own
    errors = "replace" if encoding in ("utf-16", "utf-32") else "strict"
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    joined, tail = False, b""
    with _open_raw(path) as source, target.open("wb") as sink:
        try:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                text = decoder.decode(chunk).encode("utf-8")
                sink.write(text)
                if not joined:
                    joined, tail = _has_joined(tail, text)
            text = decoder.decode(b"", final=True).encode("utf-8")
            sink.write(text)
            return joined or _has_joined(tail, text)[0]
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; Latin-1 maps every byte
            source.close()
            return _transcode(path, target, "latin-1")
        except DECOMPRESS_ERRORS as err:
            raise SourceFileError(f"{path}: cannot decompress ({err})") from None


def _skip_space(text: str, index: int) -> int:
    match = _JSON_SPACE.match(text, index)
    return match.end() if match else index


def _json_values(text: str, index: int = 0) -> Iterator[str]:
    """The text of each JSON value in ``text``, one after another (whitespace between)."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, index)
    while index < len(text):
        _, end = decoder.raw_decode(text, index)
        yield text[index:end]
        index = _skip_space(text, end)


def _json_array_elements(text: str) -> Iterator[str]:
    """The text of each element of the one JSON array ``text`` holds (nothing after it)."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if text[index : index + 1] != "[":
        raise ValueError("not a JSON array")
    index = _skip_space(text, index + 1)
    if text[index : index + 1] == "]":
        index += 1
    else:
        while True:
            _, end = decoder.raw_decode(text, index)
            yield text[index:end]
            index = _skip_space(text, end)
            separator = text[index : index + 1]
            index = _skip_space(text, index + 1)
            if separator == "]":
                break
            if separator != ",":
                raise ValueError(
                    f"expected ',' or ']' at character {index}" if separator else "the array is cut off"
                )
    if _skip_space(text, index) != len(text):
        raise ValueError(f"extra data after the array at character {index}")


def _one_line(record: str) -> str:
    # a raw line break cannot be inside a JSON string: every one here is white space
    return record.replace("\r", " ").replace("\n", " ")


def _split_joined(line: str) -> list[str] | None:
    """The records of a line holding several written back to back, or None."""
    if not _JOINED.search(line):
        return None
    try:
        parts = list(_json_values(line))
    except (ValueError, RecursionError):
        return None  # not only whole records: the line stays one (malformed) record
    return parts if len(parts) > 1 else None


def _json_records(original: Path, readable: Path, joined: bool, target: Path) -> Path:
    """A JSON Lines version of a JSON text file (``readable`` itself if it is one already)."""
    with readable.open("rb") as handle:
        start = handle.read(CHUNK).lstrip(b" \t\r\n")
    first_line = start.split(b"\n", 1)[0].strip()
    pretty = first_line in (b"[", b"{")
    if pretty or start.startswith(b"["):
        if readable.stat().st_size > MAX_JSON_DOCUMENT:
            if pretty:
                raise SourceFileError(
                    f"{original}: a pretty-printed JSON document larger than "
                    f"{MAX_JSON_DOCUMENT >> 20} MB; export JSON Lines (one record per line)"
                )
        else:
            text = readable.read_text("utf-8")
            records = _json_array_elements(text) if start.startswith(b"[") else _json_values(text)
            try:
                with target.open("w", encoding="utf-8", newline="\n") as sink:
                    for record in records:
                        sink.write(_one_line(record) + "\n")
                return target
            except (ValueError, RecursionError) as err:
                if pretty:
                    kind = "a JSON array" if first_line == b"[" else "pretty-printed JSON"
                    raise SourceFileError(
                        f"{original}: {kind} that does not parse ({err}); "
                        "expected JSON Lines (one record per line)"
                    ) from None
                # one line starting with '[' that is no array of records: an ordinary line
    if not joined:
        return readable
    with (
        readable.open("r", encoding="utf-8", newline="") as source,
        target.open("w", encoding="utf-8", newline="") as sink,
    ):
        for line in source:
            body = line.rstrip("\r\n")
            parts = _split_joined(body)
            sink.write(line if parts is None else "\n".join(parts) + (line[len(body) :] or "\n"))
    return target


def prepare(path: Path, source: SourceConfig, scratch: Path) -> PreparedFile:
    """Checksum a file and give the engine a readable UTF-8 version of it."""
    try:
        # stat before reading: a change made while the file is read gets a later mtime, so
        # the size and mtime recorded never stand for content other than what was loaded
        stat = path.stat()
        checksum = sha256_of(path)
    except OSError as err:
        raise SourceFileUnavailableError(f"{path}: cannot read file ({err.strerror})") from None
    size, mtime_ns = stat.st_size, stat.st_mtime_ns
    fmt = infer_format(path, source.format)
    if fmt == "parquet":
        return PreparedFile(path, path, checksum, size, fmt, mtime_ns)
    head = _head(path)
    bom = _bom_encoding(head)
    if bom is None:
        _require_text(path, head, fmt)
    clean, joined = _scan_utf8(path) if bom is None and source.encoding in (None, "utf-8") else (False, False)
    readable = path
    scratch.mkdir(parents=True, exist_ok=True)
    if not clean:
        readable = scratch / f"{checksum[:16]}.{fmt}"
        encoding = (
            bom
            or {"latin-1": "latin-1", "cp1252": "cp1252", "utf-8": "utf-8-sig"}.get(source.encoding or "", "")
            or _detect_encoding(path)
        )
        joined = _transcode(path, readable, encoding)
    if fmt == "jsonl":
        readable = _json_records(path, readable, joined, scratch / f"{checksum[:16]}.records.jsonl")
    return PreparedFile(path, readable, checksum, size, fmt, mtime_ns)


def clear_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
