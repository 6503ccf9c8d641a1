"""Finding a source's files and making each one readable by the engine.

Real exports arrive gzip-compressed, with a UTF-8 byte-order mark, or in Latin-1. The
engine wants plain UTF-8, so such files are streamed once into a UTF-8 copy in a scratch
folder; clean UTF-8 files are read in place. The checksum is always of the original
bytes, which is what makes a re-delivered file recognisable.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import hashlib
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from journey_mining.config import Config, SourceConfig

CHUNK = 1 << 20
UTF8_BOM = codecs.BOM_UTF8


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


def _open_raw(path: Path) -> BinaryIO:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _is_clean_utf8(path: Path) -> bool:
    """True when the file is uncompressed UTF-8 without BOM (readable in place)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        first = handle.read(CHUNK)
        if first[:2] == b"\x1f\x8b" or first.startswith(UTF8_BOM):
            return False
        chunk = first
        while chunk:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            chunk = handle.read(CHUNK)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _detect_encoding(path: Path) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _open_raw(path) as handle:
        try:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
        except (OSError, EOFError) as err:
            raise SourceFileError(f"{path}: cannot decompress ({err})") from None
    return "utf-8-sig"


def _transcode(path: Path, target: Path, encoding: str) -> None:
    """Stream ``path`` into UTF-8 at ``target`` (decompressing, dropping a BOM)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with _open_raw(path) as source, target.open("wb") as sink:
        try:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                sink.write(decoder.decode(chunk).encode("utf-8"))
            sink.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; Latin-1 maps every byte
            source.close()
            _transcode(path, target, "latin-1")
        except (OSError, EOFError) as err:
            raise SourceFileError(f"{path}: cannot decompress ({err})") from None


def prepare(path: Path, source: SourceConfig, scratch: Path) -> PreparedFile:
    """Checksum a file and give the engine a readable UTF-8 version of it."""
    try:
        size = path.stat().st_size
        checksum = sha256_of(path)
    except OSError as err:
        raise SourceFileUnavailableError(f"{path}: cannot read file ({err.strerror})") from None
    fmt = infer_format(path, source.format)
    if fmt == "parquet" or (source.encoding in (None, "utf-8") and _is_clean_utf8(path)):
        return PreparedFile(path, path, checksum, size, fmt)
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / f"{checksum[:16]}.{fmt}"
    encoding = {"latin-1": "latin-1", "cp1252": "cp1252", "utf-8": "utf-8-sig"}.get(
        source.encoding or "", ""
    ) or _detect_encoding(path)
    _transcode(path, target, encoding)
    return PreparedFile(path, target, checksum, size, fmt)


def clear_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
