"""Pseudonymising identifiers: normalise emails and phones, then HMAC-SHA256 them in SQL.

Raw emails, phones and user ids never enter the warehouse: adapters call the SQL macros
defined here inside the staging query, so only the keyed hash is ever stored. The HMAC is
computed by DuckDB itself (sha256 over the key pads), so hashing stays vectorised; the
result equals Python's ``hmac.new(key, value, sha256).hexdigest()``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings

import duckdb

from journey_mining.config import PrivacyConfig

DEMO_HASH_KEY = "journey-mining-demo-key-not-secret"
"""Used only with ``privacy.demo_mode: true`` when the key variable is unset."""


class MissingHashKeyError(RuntimeError):
    """No hashing key outside demo mode: refuse rather than store guessable hashes."""


class DemoHashKeyWarning(UserWarning):
    """The documented demo key is in use: hashes are not secret."""


def hash_key(privacy: PrivacyConfig) -> bytes:
    """The HMAC key from the configured environment variable (demo key only in demo mode)."""
    value = os.environ.get(privacy.hash_key_env, "")
    if value:
        return value.encode("utf-8")
    if privacy.demo_mode:
        warnings.warn(
            f"{privacy.hash_key_env} is not set: using the public demo key; "
            "identifier hashes are not secret (demo_mode)",
            DemoHashKeyWarning,
            stacklevel=2,
        )
        return DEMO_HASH_KEY.encode("utf-8")
    raise MissingHashKeyError(
        f"set the environment variable {privacy.hash_key_env} to a secret hashing key "
        "(or privacy.demo_mode: true for demos)"
    )


def hmac_hex(key: bytes, value: str) -> str:
    """Python reference of the SQL ``jm_hash``: for tests and for analysts joining back."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _pads(key: bytes) -> tuple[bytes, bytes]:
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
"""Also matches the percent-encoded form (``jane%40example.com``) URLs carry."""
PHONE_PATTERN = r"(\+|\b00)\d[\d ().-]{5,}\d|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"

_MACROS = (
    # hex HMAC-SHA256 of a non-empty string; the key pads are session variables set with
    # bound parameters (constants to the planner: no per-query subquery to plan)
    """create or replace temp macro jm_hash(v) as (
        case when v is null or v = '' then null else
        sha256(getvariable('jm_opad') || unhex(sha256(getvariable('jm_ipad') || encode(v)))) end)""",
    """create or replace temp macro jm_email(v) as (
        case when regexp_full_match(lower(trim(v)), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')
             then lower(trim(v)) end)""",
    # E.164-ish: keep digits, honour + and 00 prefixes, else prefix the default country code
    """create or replace temp macro jm_phone_digits(v) as (regexp_replace(v, '[^0-9]', '', 'g'))""",
    """create or replace temp macro jm_phone(v) as (
        case
          when v is null or length(jm_phone_digits(v)) < 7 then null
          when ltrim(v) like '+%' then '+' || jm_phone_digits(v)
          when jm_phone_digits(v) like '00%' then '+' || substr(jm_phone_digits(v), 3)
          when getvariable('jm_country_code') = '1'
               and length(jm_phone_digits(v)) = 11 and jm_phone_digits(v) like '1%'
               then '+' || jm_phone_digits(v)
          else '+' || getvariable('jm_country_code')
               || ltrim(jm_phone_digits(v), '0')
        end)""",
    f"""create or replace temp macro jm_redact(v) as (
        regexp_replace(regexp_replace(v, '{EMAIL_PATTERN}', '<email>', 'g'),
                       '{PHONE_PATTERN}', '<phone>', 'g'))""",
)


def register_privacy_macros(con: duckdb.DuckDBPyConnection, privacy: PrivacyConfig) -> None:
    """Define jm_hash / jm_email / jm_phone / jm_redact for this connection."""
    ipad, opad = _pads(hash_key(privacy))
    con.execute("set variable jm_ipad = ?", [ipad])
    con.execute("set variable jm_opad = ?", [opad])
    con.execute("set variable jm_country_code = ?", [privacy.default_country_code])
    for macro in _MACROS:
        con.execute(macro)
