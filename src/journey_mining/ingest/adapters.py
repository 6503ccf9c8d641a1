"""Source adapters: how each native export becomes canonical staged rows.

An adapter only prepares ``_input`` (records with stable column names) for its staging
SQL file ``sql/staging/stg_<kind>.sql``; validation, parsing and mapping happen in that
SQL. CSV/Parquet kinds read columns named by the source's ``columns`` mapping (canonical
field -> file column); a field not mapped is looked up under its own name.

``_input`` is a view over the file's rows (``_raw``), so the text casts are computed once,
inside the staging query. The record text a reject keeps is built only for rejected
records: the macro ``_jm_reject_raw(r)`` gives it from a row ``r`` of ``_raw``
(``_input.raw`` is NULL for column-mapped kinds, whose staging SQL only passes ``raw`` on
to rejects; for JSON kinds the staged ``raw`` is kept and the macro gives NULL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from journey_mining.config import SourceConfig, SourceKind
from journey_mining.ingest.files import PreparedFile, SourceFileError
from journey_mining.ingest.readers import (
    raw_columns,
    read_csv_rows,
    read_json_lines,
    read_parquet_rows,
    require_columns,
)

IDENTIFIER_FIELDS = ("anonymous_id", "user_id", "email", "phone")


@dataclass(frozen=True)
class Adapter:
    kind: SourceKind
    formats: frozenset[str]
    target: str = "touchpoints"  # or "identities" for identity-only sources
    required: tuple[str, ...] = ()  # fields that must be mapped to a column (tabular kinds)
    optional: tuple[str, ...] = ()
    any_identifier: bool = False  # at least one identifier column must exist
    # fields that are timestamps: a typed (Parquet TIMESTAMP) column also gives <field>_at,
    # the UTC instant taken directly, so the staging SQL need not parse its text
    time_fields: tuple[str, ...] = ()
    pii_fields: tuple[str, ...] = field(default=("email", "phone", "user_id"))

    @property
    def staging_model(self) -> str:
        return f"stg_{self.kind.value}"

    def prepare_input(self, con: duckdb.DuckDBPyConnection, file: PreparedFile, source: SourceConfig) -> None:
        """Create ``_input`` (and ``_read_rejects``) for the staging SQL."""
        if file.format not in self.formats:
            raise SourceFileError(
                f"{file.original}: format {file.format!r} is not supported for {self.kind.value} "
                f"sources (use one of: {', '.join(sorted(self.formats))})"
            )
        if file.format != "parquet" and _is_blank(file):
            self._no_records(con)
            return
        if file.format == "jsonl":
            read_json_lines(con, file)
            con.execute("create or replace temp view _input as select * from _raw")
            _raw_in_staged_rows(con)
            return
        if file.format == "parquet":
            read_parquet_rows(con, file)
            if not (self.required or self.optional):
                # nested exports (GA4 in Parquet): the same JSON staging SQL reads each row
                con.execute("""create or replace temp view _input as
                               select source_row, cast(to_json(r) as varchar) as raw from _raw r""")
                _raw_in_staged_rows(con)
                return
        else:
            read_csv_rows(con, file, source.delimiter)
        if not (self.required or self.optional):
            raise SourceFileError(f"{file.original}: {self.kind.value} sources cannot be read as CSV")
        self._map_columns(con, file, source)

    def _no_records(self, con: duckdb.DuckDBPyConnection) -> None:
        """An empty text file (0 bytes, or only blank lines): zero records, nothing to check."""
        fields = [f"cast(null as varchar) as {name}" for name in self.required + self.optional]
        times = [f"cast(null as timestamp) as {name}_at" for name in self.time_fields]
        columns = ", ".join(["cast(null as bigint) as source_row", *fields, *times, NO_RAW])
        con.execute(f"create or replace temp view _input as select {columns} where false")
        con.execute("create or replace temp table _raw (source_row bigint)")
        con.execute(
            "create or replace temp table _read_rejects (source_row bigint, raw varchar, reason varchar)"
        )
        _raw_in_staged_rows(con)

    def _map_columns(self, con: duckdb.DuckDBPyConnection, file: PreparedFile, source: SourceConfig) -> None:
        mapping = {name: source.columns.get(name, name) for name in self.required + self.optional}
        unknown = sorted(set(source.columns) - set(mapping))
        if unknown:
            raise SourceFileError(
                f"{file.original}: columns mapping names unknown fields {unknown} for "
                f"{self.kind.value} sources (known: {', '.join(mapping)})"
            )
        require_columns(con, file, {f: mapping[f] for f in self.required})
        present = set(raw_columns(con))
        if self.any_identifier and not any(mapping[f] in present for f in IDENTIFIER_FIELDS if f in mapping):
            wanted = ", ".join(mapping[f] for f in IDENTIFIER_FIELDS if f in mapping)
            raise SourceFileError(
                f"{file.original}: no customer identifier column; expected one of: {wanted}"
            )
        view = self._input_view(con, mapping, present, source.time_zone)
        con.execute(f"create or replace temp view _input as {view}")
        pii = {mapping[f] for f in self.pii_fields if f in mapping}
        # rejected rows keep the record's text, with mapped PII columns blanked and any
        # email- or phone-shaped text masked
        kept = ", ".join(
            f"'{c.replace(chr(39), chr(39) * 2)}': " + ("'<redacted>'" if c in pii else f"r.{_quote(c)}")
            for c in sorted(present - {"source_row"})
        )
        con.execute(
            "create or replace temp macro _jm_reject_raw(r) as "
            f"jm_redact(cast(to_json({{{kept}}}) as varchar))"
        )

    def _input_view(
        self, con: duckdb.DuckDBPyConnection, mapping: dict[str, str], present: set[str], time_zone: str
    ) -> str:
        """The query of ``_input``: mapped columns as text, plus ``<time field>_at``."""
        types = dict(con.execute("select column_name, column_type from (describe _raw)").fetchall())
        select, instants = ["source_row"], {}
        for name, column in mapping.items():
            instant = _utc_instant(_quote(column), types.get(column), time_zone)
            if column not in present:
                select.append(f"cast(null as varchar) as {name}")
            elif name in self.time_fields and instant:
                # the text only where the instant is not taken: it is parsed, or names the reason
                instants[name] = instant
                select.append(
                    f"case when _jm_{name}_at is null then cast({_quote(column)} as varchar) end as {name}"
                )
            else:
                select.append(f"cast({_quote(column)} as varchar) as {name}")
        select += [
            f"_jm_{name}_at as {name}_at" if name in instants else f"cast(null as timestamp) as {name}_at"
            for name in self.time_fields
        ]
        typed = "".join(f", {sql} as _jm_{name}_at" for name, sql in instants.items())
        return f"select {', '.join([*select, NO_RAW])} from (select *{typed} from _raw)"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _utc_instant(column: str, data_type: str | None, time_zone: str) -> str | None:
    """SQL for the naive-UTC instant of a typed timestamp column, or None for text columns.

    Equal to what ``jm_ts`` gives for the column's text: an instant (TIMESTAMPTZ) is taken
    as is, a naive TIMESTAMP is read in the source's time zone. NULL outside 1970-2100 (the
    accepted range) or for a NULL value: such a row goes through the text parser, so its
    reject reason names the text as before.
    """
    zone = time_zone.replace("'", "''")
    if data_type == "TIMESTAMP WITH TIME ZONE":
        return (
            f"case when {column} >= timestamptz '1970-01-01 00:00:00+00' "
            f"and {column} < timestamptz '2100-01-01 00:00:00+00' then make_timestamp(epoch_us({column})) end"
        )
    if data_type in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS"):
        low, value = "timestamp '1900-01-01'", f"cast({column} as timestamp)"
    elif data_type == "TIMESTAMP_NS":
        # the text has nine digits, which parsing truncates to microseconds (floor, after 1970)
        low, value = "timestamp_ns '1970-01-02'", f"make_timestamp(epoch_ns({column}) // 1000)"
    else:
        return None
    if zone != "UTC":
        # the bounds keep the zone conversion away from values it cannot represent
        value = (
            f"case when {column} >= {low} and {column} < timestamp '2200-01-01' "
            f"then timezone('UTC', timezone('{zone}', {value})) end"
        )
    accepted = f"{value} >= timestamp '1970-01-01' and {value} < timestamp '2100-01-01'"
    return f"case when {accepted} then {value} end"


def _raw_in_staged_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Kinds whose staging SQL carries the (redacted) record text on its reject rows."""
    con.execute("create or replace temp macro _jm_reject_raw(r) as cast(null as varchar)")


def _is_blank(file: PreparedFile) -> bool:
    """Nothing but white space (a quiet day's export, or 0 bytes)."""
    return file.readable.stat().st_size <= BLANK_PROBE_BYTES and not file.readable.read_bytes().strip()


NO_RAW = "cast(null as varchar) as raw"  # the record text is built for rejects only
BLANK_PROBE_BYTES = 1 << 16
TABULAR = frozenset({"csv", "parquet"})
JSON_RECORDS = frozenset({"jsonl", "parquet"})
