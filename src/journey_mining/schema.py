"""The canonical touchpoint schema and the warehouse's bookkeeping tables.

Every source adapter maps its native export onto ``touchpoints``; everything downstream
reads only this table. Identifiers that can name a person (user id, email, phone) are
stored only as keyed hashes (see ``privacy``); the cookie / device id is pseudonymous
already and kept as exported.
"""

from __future__ import annotations

TOUCHPOINT_COLUMNS: dict[str, str] = {
    "event_id": "varchar not null",  # md5 of source + native key: deterministic, the dedupe key
    "source": "varchar not null",  # configured source name
    "file_id": "integer not null",  # loaded_files.file_id of the file the row came from
    "source_row": "bigint not null",  # 1-based record number inside that file
    "ingest_seq": "bigint not null",  # global original order: breaks timestamp ties
    "record_key": "varchar not null",  # native record (event, conversation, contact) the row came from
    "record_version": "timestamp",  # native last-update time: newer records replace older ones
    "anonymous_id": "varchar",  # cookie / device / app-instance id
    "user_id_hash": "varchar",  # keyed hash of the site's user id
    "email_hash": "varchar",  # keyed hash of the normalized email
    "phone_hash": "varchar",  # keyed hash of the normalized (E.164) phone
    "ts": "timestamp not null",  # UTC, microseconds
    "channel": "varchar not null",  # web, chat, call, or a configured other
    "touchpoint": "varchar not null",  # normalized activity, '<channel>:<activity>'
    "event_name": "varchar",  # the source's own name for the event
    "source_session_id": "varchar",  # the source's session / conversation / contact chain id
    "page": "varchar",  # page path or screen
    "device": "varchar",  # desktop / mobile / tablet / phone ...
    "wait_seconds": "double",  # queue time or time to first reply
    "handle_seconds": "double",  # talk / handling time
    "outcome": "varchar",  # resolved, unresolved, missed, abandoned, order_placed ...
    "satisfaction": "double",  # rating as given by the source (e.g. 1-5)
    "topic": "varchar",  # contact reason / tag
    "revenue": "double",  # order value where the event carries one
    "attributes": "json",  # everything else the source sent, minus raw PII
}

UNIQUE_TEXT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "record_key",
    "anonymous_id",
    "user_id_hash",
    "email_hash",
    "phone_hash",
)
"""Text columns of ``touchpoints`` that hold a hash or id nearly unique per row. DuckDB's
default for text (DICT_FSST) looks for a dictionary they do not have. Stored with zstd, a
10M-event load took 22-24 s against 26-27 s, for a warehouse file 26% larger (the findings
of 2026-12-05 in benchmarks/README.md)."""


def _touchpoints_ddl(compressed: tuple[str, ...] = ()) -> str:
    def column(name: str, kind: str) -> str:
        return f"{name} {kind}" + (" using compression zstd" if name in compressed else "")

    columns = ", ".join(column(name, kind) for name, kind in TOUCHPOINT_COLUMNS.items())
    return f"create table if not exists touchpoints ({columns})"


TABLE_DDL: dict[str, str] = {
    "touchpoints": _touchpoints_ddl(),
    "loaded_files": """
        create table if not exists loaded_files (
            file_id integer primary key,
            source varchar not null,
            path varchar not null,
            sha256 varchar not null,
            size_bytes bigint not null,
            rows_read bigint not null,
            rows_loaded bigint not null,
            rows_duplicate bigint not null,
            rows_rejected bigint not null,
            touchpoints_written bigint not null,
            loaded_at timestamp not null,
            mtime_ns bigint
        )""",
    "rejected_rows": """
        create table if not exists rejected_rows (
            source varchar not null,
            file_id integer not null,
            path varchar not null,
            source_row bigint,
            raw varchar,
            reason varchar not null
        )""",
    "identities": """
        create table if not exists identities (
            source varchar not null,
            file_id integer not null,
            source_row bigint not null,
            user_id_hash varchar,
            email_hash varchar,
            phone_hash varchar
        )""",
    "marts_build": """
        create table if not exists marts_build (
            engine varchar not null,
            build_id varchar not null,
            built_at timestamp not null
        )""",
}
"""``identities`` holds rows of identity-only sources (a CRM table): links, no touchpoint.
``marts_build`` names the build the marts come from (see ``builds``)."""


MIGRATIONS: tuple[str, ...] = (
    # the file's modification time (ns since the epoch) for the loader's quick check; NULL in
    # rows of warehouses created before it, which are filled when the file is next seen unchanged
    "alter table loaded_files add column if not exists mtime_ns bigint",
)
"""Bring tables of older warehouses up to ``TABLE_DDL`` (idempotent; new columns go last)."""


def create_schema_sql() -> list[str]:
    """DDL for all warehouse tables and the migrations of older ones, safe to run on every start.

    The DuckDB warehouse's own DDL: ``TABLE_DDL`` is the portable form other engines read the
    column types from (``using compression`` is DuckDB's alone); a warehouse created before
    keeps its tables as they are."""
    warehouse = {**TABLE_DDL, "touchpoints": _touchpoints_ddl(UNIQUE_TEXT_COLUMNS)}
    return [*warehouse.values(), *MIGRATIONS]
