"""Source adapters: how each native export becomes canonical staged rows.

An adapter only prepares ``_input`` (records with stable column names) for its staging
SQL file ``sql/staging/stg_<kind>.sql``; validation, parsing and mapping happen in that
SQL. CSV/Parquet kinds read columns named by the source's ``columns`` mapping (canonical
field -> file column); a field not mapped is looked up under its own name.
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
            con.execute("create or replace temp table _input as select * from _raw")
            return
        if file.format == "parquet":
            read_parquet_rows(con, file)
            if not (self.required or self.optional):
                # nested exports (GA4 in Parquet): the same JSON staging SQL reads each row
                con.execute("""create or replace temp table _input as
                               select source_row, cast(to_json(r) as varchar) as raw from _raw r""")
                return
        else:
            read_csv_rows(con, file, source.delimiter)
        if not (self.required or self.optional):
            raise SourceFileError(f"{file.original}: {self.kind.value} sources cannot be read as CSV")
        self._map_columns(con, file, source)

    def _no_records(self, con: duckdb.DuckDBPyConnection) -> None:
        """An empty text file (0 bytes, or only blank lines): zero records, nothing to check."""
        fields = [f"{name} varchar" for name in self.required + self.optional]
        columns = ", ".join(["source_row bigint", *fields, "raw varchar"])
        con.execute(f"create or replace temp table _input ({columns})")
        con.execute(
            "create or replace temp table _read_rejects (source_row bigint, raw varchar, reason varchar)"
        )

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
        select = ["source_row"]
        for name, column in mapping.items():
            quoted = '"' + column.replace('"', '""') + '"'
            select.append(
                f"cast({quoted} as varchar) as {name}"
                if column in present
                else f"cast(null as varchar) as {name}"
            )
        pii = {mapping[f] for f in self.pii_fields if f in mapping}
        # rejected rows keep the record's text, with mapped PII columns blanked and any
        # email- or phone-shaped text masked
        kept = ", ".join(
            f"'{c.replace(chr(39), chr(39) * 2)}': "
            + ("'<redacted>'" if c in pii else '"' + c.replace('"', '""') + '"')
            for c in sorted(present - {"source_row"})
        )
        select.append(f"jm_redact(cast(to_json({{{kept}}}) as varchar)) as raw")
        con.execute(f"create or replace temp table _input as select {', '.join(select)} from _raw")


def _is_blank(file: PreparedFile) -> bool:
    """Nothing but white space (a quiet day's export, or 0 bytes)."""
    return file.readable.stat().st_size <= BLANK_PROBE_BYTES and not file.readable.read_bytes().strip()


BLANK_PROBE_BYTES = 1 << 16
TABULAR = frozenset({"csv", "parquet"})
JSON_RECORDS = frozenset({"jsonl", "parquet"})
