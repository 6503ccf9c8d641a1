"""Reading a prepared file into a temp table of raw records, one row per source record.

Every reader produces ``_raw`` with ``source_row`` (1-based record number) and either
``raw`` (JSON text of the record) or the file's own columns, and ``_read_rejects`` with
records that could not even be split into fields. Nothing here interprets values:
parsing and validation live in the staging SQL, so every failure gets a reason there.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
from pyarrow import csv as pa_csv

from journey_mining.ingest.files import PreparedFile, SourceFileError, engine_message

LINE_BLOCK_BYTES = 64 << 20  # text handed to the engine at a time: memory stays bounded
MAX_CSV_LINE_BYTES = 64 << 20  # a CSV record may be this long (a 10 MB field loads, as in JSON)
UNUSED_DELIMITER = "\x1f"  # ASCII unit separator: never in JSON text, so a line stays one field


def read_json_lines(con: duckdb.DuckDBPyConnection, file: PreparedFile) -> None:
    """Newline-delimited JSON: one record per non-blank line, malformed lines kept as text.

    Arrow's streaming CSV reader splits the file into lines in C++ blocks (one column, no
    quoting, empty lines kept so ``source_row`` is the true line number); each block goes
    to the engine as it comes, so a multi-gigabyte export never sits in memory at once.
    A line holding the unused delimiter byte (never valid JSON) comes back through the
    invalid-row handler and is rejected like any malformed line.
    """
    con.execute("create or replace temp table _raw (source_row bigint, raw varchar)")
    odd_lines: list[tuple[int, str]] = []

    def keep_odd_line(row: pa_csv.InvalidRow) -> str:
        odd_lines.append((int(row.number), row.text))
        return "skip"

    try:
        _stream_lines(con, file, odd_lines, keep_odd_line)
    except pa.ArrowException as err:
        if "straddl" in str(err):
            raise SourceFileError(
                f"{file.original}: a line longer than {_size(LINE_BLOCK_BYTES)}; no record may be that long"
            ) from None
        raise SourceFileError(f"{file.original}: cannot split into lines ({engine_message(err)})") from None
    con.execute(
        """create or replace temp table _read_rejects as
           select source_row, raw, 'malformed JSON' as reason from _raw where not json_valid(raw)"""
    )
    if odd_lines:
        con.executemany(
            "insert into _read_rejects values (?, ?, 'malformed JSON')", [list(r) for r in odd_lines]
        )
    con.execute("delete from _raw where not json_valid(raw)")


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"


def _stream_lines(
    con: duckdb.DuckDBPyConnection,
    file: PreparedFile,
    odd_lines: list[tuple[int, str]],
    keep_odd_line: Callable[[pa_csv.InvalidRow], str],
) -> None:
    reader = pa_csv.open_csv(
        pa.input_stream(str(file.readable), compression=None),
        read_options=pa_csv.ReadOptions(column_names=["raw"], block_size=LINE_BLOCK_BYTES, use_threads=False),
        parse_options=pa_csv.ParseOptions(
            delimiter=UNUSED_DELIMITER,
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
            invalid_row_handler=keep_odd_line,
        ),
        convert_options=pa_csv.ConvertOptions(column_types={"raw": pa.string()}, strings_can_be_null=False),
    )
    next_line = 1
    for batch in reader:
        numbers = np.arange(next_line, next_line + batch.num_rows + len(odd_lines), dtype=np.int64)
        numbers = numbers[~np.isin(numbers, [n for n, _ in odd_lines])][: batch.num_rows]
        next_line = int(numbers[-1]) + 1 if len(numbers) else next_line
        con.register("_jm_line_batch", pa.table({"source_row": pa.array(numbers), "raw": batch.column(0)}))
        try:
            con.execute(
                """insert into _raw select source_row, rtrim(raw, chr(13)) from _jm_line_batch
                   where trim(rtrim(raw, chr(13))) <> ''"""
            )
        finally:
            con.unregister("_jm_line_batch")


def read_parquet_rows(con: duckdb.DuckDBPyConnection, file: PreparedFile) -> None:
    """Parquet: typed columns as written; record number from the file's row order."""
    try:
        con.execute(
            """create or replace temp table _raw as
               select * exclude (file_row_number), file_row_number + 1 as source_row
               from read_parquet(?, file_row_number = true)""",
            [str(file.readable)],
        )
    except duckdb.Error as err:
        raise SourceFileError(
            f"{file.original}: not a readable Parquet file ({engine_message(err)})"
        ) from None
    con.execute("create or replace temp table _read_rejects (source_row bigint, raw varchar, reason varchar)")


def read_csv_rows(con: duckdb.DuckDBPyConnection, file: PreparedFile, delimiter: str | None) -> None:
    """CSV as text columns; rows with too many/few fields or broken quoting are rejects."""
    options = (
        "header = true, all_varchar = true, store_rejects = true, strict_mode = true, "
        # prepared files are never compressed, whatever their name says (data.csv.gz)
        f"max_line_size = {MAX_CSV_LINE_BYTES}, compression = 'none'"
    )
    params: list[object] = [str(file.readable)]
    if delimiter:
        options += ", delim = ?"
        params.append(delimiter)
    con.execute("drop table if exists reject_errors")
    con.execute("drop table if exists reject_scans")
    try:
        con.execute(
            f"""create or replace temp table _raw_unnumbered as
                select *, row_number() over () as _k from read_csv(?, {options})""",
            params,
        )
    except duckdb.Error as err:
        message = engine_message(err).replace(str(file.readable), file.original.name)
        raise SourceFileError(f"{file.original}: not a readable CSV file ({message})") from None
    con.execute(
        """create or replace temp table _read_rejects as
           select cast(line - 1 as bigint) as source_row, trim(csv_line, chr(10) || chr(13)) as raw,
                  'malformed CSV row: ' || error_message as reason
           from reject_errors qualify row_number() over (partition by line order by column_idx) = 1"""
    )
    # the k-th good record takes the k-th record number not used by a malformed row
    con.execute(
        """create or replace temp table _raw as
           with numbers as (
               select range as source_row from range(1, (select count(*) from _raw_unnumbered)
                                                     + (select count(*) from _read_rejects) + 1)
               where range not in (select source_row from _read_rejects)
           ), free as (select source_row, row_number() over (order by source_row) as _k from numbers)
           select r.* exclude (_k), f.source_row from _raw_unnumbered r join free f using (_k)"""
    )
    con.execute("drop table _raw_unnumbered")


def raw_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("describe _raw").fetchall()]


def require_columns(con: duckdb.DuckDBPyConnection, file: PreparedFile, needed: dict[str, str]) -> None:
    """Fail before loading anything when a mapped column is not in the file."""
    present = set(raw_columns(con))
    for field, column in needed.items():
        if column not in present:
            raise SourceFileError(
                f"{file.original}: required column {column!r} (for {field}) is missing; "
                f"the file has: {', '.join(sorted(present - {'source_row'}))}"
            )
