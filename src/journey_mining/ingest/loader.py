"""Loading sources into the warehouse: exactly once per file, nothing silently dropped.

Per file, in one transaction: stage records with the source's SQL, quarantine unusable
ones in ``rejected_rows`` with a reason, keep the newest version of each native record
(a re-sent contact record replaces the older one), insert touchpoints not yet present,
and record the file with its checksum and counts in ``loaded_files``. A file whose
checksum was loaded before is skipped, so re-running a day adds nothing.

A file is identified first by (path, size, modification time), then by content: one still
at the path, size and mtime recorded when it was loaded is skipped without being read (a
"quick check", as rsync and make do), so a run over a glob matching the whole history costs
in proportion to the new files. Anything else is checksummed: a renamed or copied file with
known content is still skipped, a file rewritten in place (new mtime) is loaded.

Stored records are found through ``loaded_record_keys`` (source, hash of record_key,
key_day), a narrow table the loader keeps beside ``touchpoints``: ``touchpoints`` is read
only for keys whose hash is already there. Where the key is made from the record's content,
time included (events without an id, GA4), the key fixes the record's UTC day (key_day), and
only the stored keys of the new rows' days are read: a new day's file costs in proportion
to the days it covers, not the history. A file with any row keyed by a native id (contact,
conversation or event id, which says nothing about the day) is checked against every stored
key hash of its source.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from journey_mining.config import Config, SourceConfig
from journey_mining.ingest.adapters import Adapter
from journey_mining.ingest.files import (
    PreparedFile,
    SourceFileError,
    SourceFileUnavailableError,
    engine_message,
    prepare,
    sha256_of,
    source_files,
)
from journey_mining.ingest.macros import register_macros
from journey_mining.ingest.registry import adapter_for
from journey_mining.schema import TOUCHPOINT_COLUMNS
from journey_mining.sqlmodels import sql_root

SEQ_FILE_SHIFT = 1 << 40  # ingest_seq = file_id * 2^40 + source_row * 16 + sub_seq
SEQ_ROW_SHIFT = 16
RACY_WINDOW_NS = 5 * 10**9
"""A stamp is trusted only if the file was modified this long before it was loaded: a later
write within the same timestamp tick (coarse on some file systems, or a skewed clock) could
otherwise leave size and mtime unchanged (git's "racily clean" files)."""

Stamp = tuple[str, int, int]  # (path, size_bytes, mtime_ns) of a loaded file


class LoadError(RuntimeError):
    """One or more files could not be loaded; each message names the file.

    ``transient`` is true when every failure was an I/O problem (worth retrying), false
    when any was bad data (retrying cannot help).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FileResult:
    source: str
    path: str
    status: str  # loaded, skipped (already loaded), failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    touchpoints: int = 0
    error: str | None = None
    transient: bool = False  # an I/O failure that a retry may fix


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    def by_source(self) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = totals.setdefault(
                f.source,
                {
                    "files": 0,
                    "skipped": 0,
                    "failed": 0,
                    "read": 0,
                    "loaded": 0,
                    "duplicate": 0,
                    "rejected": 0,
                    "touchpoints": 0,
                },
            )
            t["files"] += 1
            t["skipped"] += f.status == "skipped"
            t["failed"] += f.status == "failed"
            t["read"] += f.rows_read
            t["loaded"] += f.rows_loaded
            t["duplicate"] += f.rows_duplicate
            t["rejected"] += f.rows_rejected
            t["touchpoints"] += f.touchpoints
        return totals

    @property
    def failures(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]


def load_sources(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    run_date: date | None = None,
    raise_on_failure: bool = True,
    quick_check: bool = True,
) -> LoadReport:
    """Load every configured source's new files; raise LoadError listing failed files.

    ``quick_check=False`` checksums every matched file, even one unchanged since it was loaded.
    """
    register_macros(con, config.privacy)
    _write_page_rules(con, config)
    report = LoadReport()
    with tempfile.TemporaryDirectory(prefix="jm-load-") as scratch:
        for source in config.sources:
            files = source_files(config, source, run_date)
            if not files:
                report.files.append(
                    FileResult(
                        source.name,
                        str(config.resolve(source.path)),
                        "failed",
                        error=f"source {source.name!r}: no file matches {source.path!r}",
                    )
                )
            stamps = _trusted_stamps(con, source) if quick_check else frozenset()
            for path in files:
                report.files.append(load_file(con, config, source, path, Path(scratch), stamps))
    if raise_on_failure and report.failures:
        raise LoadError(
            "\n".join(f.error or f.path for f in report.failures),
            transient=all(f.transient for f in report.failures),
        )
    return report


def load_file(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    source: SourceConfig,
    path: Path,
    scratch: Path,
    stamps: frozenset[Stamp] = frozenset(),
) -> FileResult:
    """Load one file in its own transaction (all or nothing); skip it unread if its path, size
    and mtime are among ``stamps``, those of files loaded before."""
    try:
        adapter = adapter_for(source.kind)
        if stamps and _stamp_of(path) in stamps:
            return FileResult(source.name, str(path), "skipped")
        prepared = prepare(path, source, scratch)
    except SourceFileUnavailableError as err:
        return FileResult(source.name, str(path), "failed", error=str(err), transient=True)
    except SourceFileError as err:
        return FileResult(source.name, str(path), "failed", error=str(err))
    seen = con.execute(
        "select 1 from loaded_files where source = ? and sha256 = ?", [source.name, prepared.sha256]
    ).fetchone()
    if seen:
        _fill_stamp(con, source, prepared)
        return FileResult(source.name, str(path), "skipped")
    con.execute("begin transaction")
    try:
        result = _stage_and_commit(con, adapter, source, prepared)
        _check_unchanged(prepared)
    except SourceFileUnavailableError as err:
        con.execute("rollback")
        return FileResult(source.name, str(path), "failed", error=str(err), transient=True)
    except SourceFileError as err:
        con.execute("rollback")
        return FileResult(source.name, str(path), "failed", error=str(err))
    except duckdb.Error as err:
        # anything else the engine refuses (a constraint, a cast nobody guarded): this file
        # fails whole, named, and the run goes on with the next one
        con.execute("rollback")
        message = f"{path}: cannot be loaded as {source.kind.value} ({engine_message(err)})"
        transient = isinstance(err, duckdb.IOException | duckdb.OutOfMemoryException)
        return FileResult(source.name, str(path), "failed", error=message, transient=transient)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    return result


def _trusted_stamps(con: duckdb.DuckDBPyConnection, source: SourceConfig) -> frozenset[Stamp]:
    """(path, size, mtime) of the source's loaded files, but of none modified shortly before
    it was loaded (see ``RACY_WINDOW_NS``): one query per source, then set look-ups."""
    rows = con.execute(
        """select path, size_bytes, mtime_ns from loaded_files
           where source = ? and mtime_ns < epoch_ns(loaded_at) - ?""",
        [source.name, RACY_WINDOW_NS],
    ).fetchall()
    return frozenset((str(path), int(size), int(mtime)) for path, size, mtime in rows)


def _stamp_of(path: Path) -> Stamp | None:
    """(path, size, mtime) of the file as it is now; None if it cannot be read (prepare says why)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_size, stat.st_mtime_ns


def _fill_stamp(con: duckdb.DuckDBPyConnection, source: SourceConfig, file: PreparedFile) -> None:
    """Give the row of a file loaded before ``mtime_ns`` existed the stamp it has now, so the
    next run's quick check knows it: only for the same path and size, and only if the file is
    still as stat'ed before its checksum was taken (its content is the recorded one)."""
    if _stamp_of(file.original) != (str(file.original), file.size_bytes, file.mtime_ns):
        return
    con.execute(
        """update loaded_files set mtime_ns = ?
           where source = ? and sha256 = ? and path = ? and size_bytes = ? and mtime_ns is null""",
        [file.mtime_ns, source.name, file.sha256, str(file.original), file.size_bytes],
    )


def _check_unchanged(file: PreparedFile) -> None:
    """What was read must be what was checksummed: a file replaced or rewritten while it was
    being loaded fails (transient: the next attempt loads the new version), so a checksum is
    never recorded for other content (a later delivery of those bytes would be skipped)."""
    try:
        unchanged = sha256_of(file.original) == file.sha256
    except OSError as err:
        raise SourceFileUnavailableError(f"{file.original}: cannot read file ({err.strerror})") from None
    if not unchanged:
        raise SourceFileUnavailableError(
            f"{file.original}: changed while it was being loaded; nothing of it was loaded "
            "(the next run loads the new version)"
        )


def _stage_and_commit(
    con: duckdb.DuckDBPyConnection, adapter: Adapter, source: SourceConfig, file: PreparedFile
) -> FileResult:
    adapter.prepare_input(con, file, source)
    file_id = _next_file_id(con)
    con.execute(
        "create or replace temp table _load_context as select ? as source, ? as time_zone,"
        " ? as channel, ? as file_id",
        [source.name, source.time_zone, source.channel, file_id],
    )
    staging_sql = (sql_root() / "staging" / f"{adapter.staging_model}.sql").read_text("utf-8")
    try:
        con.execute(f"create or replace temp table _staged as {staging_sql}")
    except duckdb.Error as err:
        raise SourceFileError(
            f"{file.original}: cannot be staged as {adapter.kind.value} ({engine_message(err)})"
        ) from None
    _check_nothing_dropped(con, file)
    rejected = _store_rejects(con, source, file, file_id)
    if adapter.target == "identities":
        loaded, duplicate, written = _commit_identities(con, source, file_id)
    else:
        _name_pages(con)
        loaded, duplicate, written = _commit_touchpoints(con, source, file_id)
    read = _count(con, "select count(*) from _input") + _count(con, "select count(*) from _read_rejects")
    if read != loaded + duplicate + rejected:
        raise SourceFileError(
            f"{file.original}: counts do not reconcile ({read} read != {loaded} loaded + {duplicate} "
            f"duplicate + {rejected} rejected), a loader bug; nothing was loaded from it"
        )
    con.execute(
        """insert into loaded_files (file_id, source, path, sha256, size_bytes, rows_read, rows_loaded,
               rows_duplicate, rows_rejected, touchpoints_written, loaded_at, mtime_ns)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp, ?)""",
        [
            file_id,
            source.name,
            str(file.original),
            file.sha256,
            file.size_bytes,
            read,
            loaded,
            duplicate,
            rejected,
            written,
            file.mtime_ns,
        ],
    )
    return FileResult(source.name, str(file.original), "loaded", read, loaded, duplicate, rejected, written)


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    return _count(con, "select coalesce(max(file_id), 0) + 1 from loaded_files")


def _check_nothing_dropped(con: duckdb.DuckDBPyConnection, file: PreparedFile) -> None:
    """Every input record must come out of staging as a touchpoint or a reject."""
    missing = _count(con, "select count(*) from _input i anti join _staged s using (source_row)")
    if missing:
        raise SourceFileError(
            f"{file.original}: staging dropped {missing} records without a reason, a bug in the "
            "staging SQL; nothing was loaded from it"
        )


def _store_rejects(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, file: PreparedFile, file_id: int
) -> int:
    """Quarantine unusable records; their text is built here, for the rejected ones only."""
    params = [source.name, file_id, str(file.original)]
    con.execute(
        "insert into rejected_rows select ?, ?, ?, source_row, jm_redact(raw), reason from _read_rejects",
        params,
    )
    con.execute(
        """insert into rejected_rows
           select ?, ?, ?, r.source_row, jm_redact(coalesce(r.raw, _jm_reject_raw(x))), r.reason
           from (select source_row, any_value(raw) as raw, min(reject_reason) as reason
                 from _staged where reject_reason is not null group by source_row) r
           left join _raw x using (source_row)""",
        params,
    )
    return _count(con, "select count(*) from _read_rejects") + _count(
        con, "select count(distinct source_row) from _staged where reject_reason is not null"
    )


def _name_pages(con: duckdb.DuckDBPyConnection) -> None:
    """Page views become named touchpoints by the configured page rules (first match wins).

    Each distinct page is matched once; the rules are written into the query as constants,
    so each pattern is compiled once rather than for every (page, rule) pair.
    """
    rules = con.execute("select pattern, touchpoint from _page_rules order by priority").fetchall()
    named = " ".join(
        f"when regexp_matches(page, {_literal(pattern)}) "
        f"then regexp_replace(page, {_literal('^.*?(?:' + pattern + ').*$')}, {_literal(touchpoint)})"
        for pattern, touchpoint in rules
    )
    con.execute(
        f"""create or replace temp table _page_names as
            select page, {f"case {named} end" if rules else "cast(null as varchar)"} as touchpoint
            from (select distinct page from _staged
                  where touchpoint = 'web:page_view' and page is not null)"""
    )
    # unnamed pages are skipped here: a filter above would be pushed below the distinct
    con.execute(
        """update _staged set touchpoint = n.touchpoint from _page_names n
           where _staged.touchpoint = 'web:page_view' and _staged.page = n.page
             and n.touchpoint is not null"""
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_page_rules(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    con.execute(
        "create or replace temp table _page_rules (priority integer, pattern varchar, touchpoint varchar)"
    )
    con.executemany(
        "insert into _page_rules values (?, ?, ?)",
        [[i, rule.pattern, rule.touchpoint] for i, rule in enumerate(config.web.page_rules)],
    )


def _commit_touchpoints(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, file_id: int
) -> tuple[int, int, int]:
    """Insert the newest version of each record; returns (records loaded, duplicates, rows).

    Work is proportional to the file: only keys that repeat within it are ranked, and only
    keys whose hash is in ``loaded_record_keys`` are looked up in ``touchpoints``.
    """
    _ensure_record_key_index(con)
    dated = _staged_has_key_day(con)
    _rank_repeated_keys(con)
    _find_stored(con, source, _key_day_range(con) if dated else None)
    # rows that are not loaded: older versions within the file, and records already stored
    # that this file does not replace with a strictly newer version
    con.execute(
        """create or replace temp table _drop as
           select s.source_row, s.record_key from _staged s join _winners w using (record_key)
           where s.reject_reason is null
             and not (s.source_row = w.source_row and s.record_version is not distinct from w.record_version)
           union
           select s.source_row, s.record_key from _staged s semi join _stored t using (record_key)
           where s.reject_reason is null and s.record_key not in (select record_key from _replace)"""
    )
    if _count(con, "select count(*) from _replace"):
        con.execute(
            "delete from touchpoints where source = ? and record_key in (select record_key from _replace)",
            [source.name],
        )
    columns = ", ".join(TOUCHPOINT_COLUMNS)
    dropped = _count(con, "select count(*) from _drop")
    kept = "from _staged b where b.reject_reason is null"
    if dropped:
        kept = "from _staged b anti join _drop d using (source_row, record_key) where b.reject_reason is null"
    written = _count(
        con,
        f"""insert into touchpoints ({columns})
            select {columns} from (
                select b.* exclude (source_row, sub_seq, reject_reason, raw{", key_day" if dated else ""}),
                       ? as source, ? as file_id, b.source_row,
                       ? * {SEQ_FILE_SHIFT} + b.source_row * {SEQ_ROW_SHIFT} + b.sub_seq as ingest_seq
                {kept}
            )""",
        [source.name, file_id, file_id],
    )
    _index_new_keys(con, source, dated)
    valid = _count(con, "select count(distinct source_row) from _staged where reject_reason is null")
    loaded = _count(con, f"select count(distinct b.source_row) {kept}") if dropped else valid
    return loaded, valid - loaded, written


def _index_new_keys(con: duckdb.DuckDBPyConnection, source: SourceConfig, dated: bool) -> None:
    """New keys join ``loaded_record_keys`` (a key seen before, stored or a collision, is in it).

    They are written in key_day order, so each row group holds few days and a look-up for
    other days skips it on its min/max.
    """
    # without repeated keys (no winners were ranked) every hash is distinct already
    distinct = "distinct" if _count(con, "select count(*) from _winners") else ""
    day = "s.key_day" if dated else "cast(null as date)"
    order = "order by key_day" if dated else ""  # nothing to order when no key has a day
    con.execute(
        f"""insert into loaded_record_keys (source, key_hash, key_day)
            select {distinct} ?, hash(record_key), {day} as key_day
            from _staged s anti join _seen using (record_key)
            where s.reject_reason is null
            {order}""",
        [source.name],
    )


def _staged_has_key_day(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the staging model gives key_day: only those whose keys are made from the
    record's content (and time) do."""
    return bool(
        _count(
            con,
            "select count(*) from duckdb_columns() where database_name = 'temp' and table_name = '_staged' "
            "and column_name = 'key_day'",
        )
    )


def _key_day_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """First and last key_day of the file's valid rows; None when any has none (a row keyed
    by a native id, or no valid row at all): then every stored key must be looked at."""
    row = con.execute(
        """select min(key_day), max(key_day), count(*) filter (where key_day is null), count(*)
           from _staged where reject_reason is null"""
    ).fetchone()
    if row is None or row[2] or not row[3]:
        return None
    return row[0], row[1]


RECORD_KEY_HASH_PROBE = "select [{}]".format(
    ", ".join(
        f"hash('{sample}')"
        for sample in ("", "a", "twelve chars", "thirteen char", "events|id:42", "x7" * 40, "f" * 32)
    )
)
"""Hashes of sample keys: if the engine's hash() ever changes, the key index is rebuilt."""


def _ensure_record_key_index(con: duckdb.DuckDBPyConnection) -> None:
    """``loaded_record_keys`` (source, hash of record_key) of every stored record.

    A narrow filter in front of ``touchpoints``: a key whose hash is absent was never
    loaded, so a new day's file is checked against 8-byte hashes, not every stored key.
    False positives (hash collisions, deleted touchpoints) are resolved on ``touchpoints``.
    Built from ``touchpoints`` when missing (a warehouse from before it existed) or when
    the engine's hash function differs from the one that built it.
    """
    probe = con.execute(RECORD_KEY_HASH_PROBE).fetchone()
    exists = _count(
        con,
        "select count(*) from duckdb_tables() where not temporary and schema_name = 'main' "
        "and table_name in ('loaded_record_keys', 'loaded_record_keys_hash')",
    )
    if exists == 2:
        stored = con.execute("select probe from loaded_record_keys_hash").fetchone()
        if stored is not None and probe is not None and list(stored[0]) == list(probe[0]):
            _add_key_day(con)
            return
    # the day of a stored key is not known from touchpoints: NULL, looked at by every file
    con.execute(
        """create or replace table loaded_record_keys as
           select distinct source, hash(record_key) as key_hash, cast(null as date) as key_day
           from touchpoints"""
    )
    con.execute(
        f"create or replace table loaded_record_keys_hash as select ({RECORD_KEY_HASH_PROBE}) as probe"
    )


def _add_key_day(con: duckdb.DuckDBPyConnection) -> None:
    """A key index from before key_day gets the column, NULL (no day known) for its keys."""
    present = _count(
        con,
        "select count(*) from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'main' "
        "and table_name = 'loaded_record_keys' and column_name = 'key_day'",
    )
    if not present:
        con.execute("alter table loaded_record_keys add column key_day date")


def _rank_repeated_keys(con: duckdb.DuckDBPyConnection) -> None:
    """``_winners``: for each record key that repeats within the file, the row set that wins.

    The newest version wins (ties: the first row). Repeats are rare, so only keys whose
    hash occurs more than once are ranked, not every row of the file.
    """
    con.execute(
        """create or replace temp table _winners as
           with repeated as (
               select hash(record_key) as key_hash from _staged where reject_reason is null
               group by 1 having count(*) > 1
           ),
           versions as (
               select distinct record_key, source_row, record_version from _staged
               where reject_reason is null and hash(record_key) in (select key_hash from repeated)
           )
           select * from versions
           qualify row_number() over (partition by record_key
               order by record_version desc nulls last, source_row) = 1"""
    )


def _find_stored(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, days: tuple[date, date] | None
) -> None:
    """``_stored`` (key, newest stored version) and ``_replace`` (keys this file updates).

    With ``days`` (every row's key fixes its day), only stored keys of those days are read,
    and those of no known day (indexed before key_day existed): a key stored with another
    day is another key. The days are written into the query as constants, so the scan skips
    row groups on their min/max.
    """
    candidates = "select key_hash from loaded_record_keys where source = $source"
    if days is not None:
        first, last = (f"date '{day.isoformat()}'" for day in days)
        candidates = f"""{candidates} and key_day between {first} and {last}
            union all
            select key_hash from loaded_record_keys where source = $source and key_day is null"""
    con.execute(
        f"""create or replace temp table _seen as
            select distinct record_key from _staged
            where reject_reason is null and hash(record_key) in ({candidates})""",
        {"source": source.name},
    )
    if _count(con, "select count(*) from _seen"):
        con.execute(
            """create or replace temp table _stored as
               select t.record_key, max(t.record_version) as record_version
               from touchpoints t semi join _seen s on t.record_key = s.record_key
               where t.source = ? group by t.record_key""",
            [source.name],
        )
    else:  # the usual case for new data: touchpoints is not read at all
        con.execute("create or replace temp table _stored (record_key varchar, record_version timestamp)")
    # the newest version of the file (winner of a repeated key, else the only row)
    con.execute(
        """create or replace temp table _replace as
           select distinct b.record_key from _staged b join _stored s using (record_key)
           left join _winners w using (record_key)
           where b.reject_reason is null
             and (w.record_key is null or (b.source_row = w.source_row
                  and b.record_version is not distinct from w.record_version))
             and (b.record_version > s.record_version
                  or (s.record_version is null and b.record_version is not null))"""
    )


def _commit_identities(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, file_id: int
) -> tuple[int, int, int]:
    """Identity rows: a link already stored for this source is a duplicate."""
    con.execute(
        """create or replace temp table _batch as
           select s.* from _staged s where reject_reason is null
           qualify row_number() over (partition by user_id_hash, email_hash, phone_hash
                                      order by source_row) = 1"""
    )
    con.execute(
        """create or replace temp table _new as
           select * from _batch b where not exists (
               select 1 from identities i where i.source = ?
                 and i.user_id_hash is not distinct from b.user_id_hash
                 and i.email_hash is not distinct from b.email_hash
                 and i.phone_hash is not distinct from b.phone_hash)""",
        [source.name],
    )
    con.execute(
        """insert into identities select ?, ?, source_row, user_id_hash, email_hash, phone_hash
           from _new""",
        [source.name, file_id],
    )
    loaded = _count(con, "select count(*) from _new")
    valid = _count(con, "select count(distinct source_row) from _staged where reject_reason is null")
    return loaded, valid - loaded, loaded
