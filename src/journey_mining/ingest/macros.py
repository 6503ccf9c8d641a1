"""SQL macros the staging queries share: timestamp parsing and privacy helpers."""

from __future__ import annotations

import duckdb

from journey_mining.config import PrivacyConfig
from journey_mining.privacy import register_privacy_macros

_OFFSET_SUFFIX = r"(Z|z|[+-]\d{2}(:?\d{2})?|\s(UTC|GMT))$"

_TIMESTAMP_MACROS = (
    # Any timestamp text a real export writes -> naive UTC timestamp (NULL if unparseable).
    # Epoch seconds / ms / us by digit count; an explicit offset or UTC suffix wins; a naive
    # local time is read in the source's configured zone (DST gaps and folds as ICU does).
    f"""create or replace temp macro jm_ts(s, tz) as (
        case
          when s is null or trim(s) = '' then null
          when regexp_full_match(trim(s), '-?\\d{{9,10}}(\\.\\d+)?')
               then make_timestamp(cast(round(cast(trim(s) as double) * 1000000) as bigint))
          when regexp_full_match(trim(s), '\\d{{12,13}}')
               then make_timestamp(cast(trim(s) as bigint) * 1000)
          when regexp_full_match(trim(s), '\\d{{15,16}}')
               then make_timestamp(cast(trim(s) as bigint))
          when regexp_matches(trim(s), '{_OFFSET_SUFFIX}')
               then coalesce(timezone('UTC', try_cast(trim(s) as timestamptz)),
                             -- RFC 2822 (Twilio), also with the obsolete 'GMT'/'UTC' zone names
                             timezone('UTC', try_strptime(
                                 regexp_replace(trim(s), '\\s(UTC|GMT)$', ' +0000'),
                                 ['%a, %d %b %Y %H:%M:%S %z', '%d %b %Y %H:%M:%S %z'])))
          -- a word after the time (a zone name, 'EST', 'PM'): the naive cast would ignore it,
          -- so read it as a zone; what is no zone leaves the time unparseable, not wrong
          when regexp_matches(trim(s), '[0-9.]\\s*[A-Za-z][A-Za-z0-9_/+-]*$')
               then timezone('UTC', try_cast(trim(s) as timestamptz))
          else timezone('UTC', timezone(tz, try_cast(trim(s) as timestamp)))
        end)""",
    # Reason a parsed timestamp is unusable, or NULL when it is fine.
    """create or replace temp macro jm_ts_problem(s, ts) as (
        case
          when s is null or trim(s) = '' then 'missing timestamp'
          when ts is null then 'unparseable timestamp: ' || left(s, 60)
          when ts < timestamp '1970-01-01' or ts >= timestamp '2100-01-01'
               then 'timestamp out of range: ' || left(s, 60)
        end)""",
    # A number from text: NULL unless it is a finite number ('NaN', 'inf', '1e999' are not)
    """create or replace temp macro jm_num(s) as (
        case when isfinite(try_cast(s as double)) then try_cast(s as double) end)""",
    """create or replace temp macro jm_slug(s) as (
        nullif(trim(regexp_replace(lower(strip_accents(trim(s))), '[^a-z0-9]+', '_', 'g'), '_'), ''))""",
)


def register_macros(con: duckdb.DuckDBPyConnection, privacy: PrivacyConfig) -> None:
    """Define every ``jm_*`` macro on this connection."""
    register_privacy_macros(con, privacy)
    for macro in _TIMESTAMP_MACROS:
        con.execute(macro)
